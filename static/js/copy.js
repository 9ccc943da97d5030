// Copy buttons: <button data-copy="#input-id"> copies that field's value and says so.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  var field = document.querySelector(button.getAttribute("data-copy"));
  if (!field) return;
  var label = button.innerHTML;
  // The words come from <body data-text-*> (templates/base.html), in the page's language.
  var copied = document.body.dataset.textCopied || "Copied";
  var pressCopy = document.body.dataset.textPressCopy || "Press Ctrl+C";
  function done(text) {
    button.textContent = text;
    setTimeout(function () { button.innerHTML = label; }, 1500);
  }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(
      function () { done(copied); },
      function () { field.select(); done(pressCopy); }
    );
  } else {
    // Plain-HTTP pages have no clipboard API: select the text for the person to copy.
    field.focus();
    field.select();
    done(document.execCommand && document.execCommand("copy") ? copied : pressCopy);
  }
});
