// Compose: "Start from a template" puts the template's text in the message box (and chooses its
// account, if it has one); the text stays editable, and the preview updates as if typed.
// Listens on the document: the picker is swapped for the chosen department's (htmx).
(function () {
  document.addEventListener("change", function (event) {
    var picker = event.target;
    if (picker.id !== "template-picker") return;
    var option = picker.selectedOptions[0];
    if (!option || !option.value) return;
    var box = document.getElementById(picker.getAttribute("data-text-box"));
    var account = document.getElementById(picker.getAttribute("data-account-box"));
    var chosenAccount = option.getAttribute("data-account");
    if (account && chosenAccount && account.value !== chosenAccount) {
      account.value = chosenAccount;
      account.dispatchEvent(new Event("change", { bubbles: true }));
    }
    if (box) {
      box.value = option.getAttribute("data-text");
      box.dispatchEvent(new Event("input", { bubbles: true }));
      box.focus();
    }
  });
})();
