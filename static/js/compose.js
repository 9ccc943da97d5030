// Compose: the confirmation ("Send this message?") describes the form as it was when Send… was
// pressed. Any change after that (a number, a list, the text, the account, the type, the time,
// or "use standard characters") withdraws it: the box goes, and Send… comes back with a line
// saying why, so the person reviews the message as it now is. The server refuses a changed form
// anyway (messaging/confirmation.py); this spares the person a second round trip to learn it.
(function () {
  var form = document.getElementById("compose-form");
  if (!form || !document.getElementById("confirm")) return;

  function withdraw(event) {
    var box = document.getElementById("confirm");
    if (!box || (event.target && box.contains(event.target))) return;
    box.remove();
    document.getElementById("compose-actions").hidden = false;
    form.removeEventListener("input", withdraw);
    form.removeEventListener("change", withdraw);
    document.body.removeEventListener("compose-changed", withdraw);
  }

  form.addEventListener("input", withdraw);
  form.addEventListener("change", withdraw);
  // "Use standard characters" swaps the text box (htmx) and says so with this event.
  document.body.addEventListener("compose-changed", withdraw);
})();
