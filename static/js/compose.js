// Compose and Send from a file: the confirmation ("Send this message?") describes the form as it
// was when Send… was pressed (and the change of a scheduled message: "Save this change?", as it
// was when Save was pressed). Any change after that (a number, a list, the text, the account,
// the type, the time, the file's phone column, or "use standard characters") withdraws it: the
// box goes, and Send… comes back with a line saying why, so the person reviews the message as
// it now is. The server refuses a changed form anyway (messaging/confirmation.py); this spares
// the person a second round trip to learn it.
// The page's markup: the box is #confirm inside the form, and the hidden block holding Send…
// (and the line saying why) is marked data-confirm-actions.
(function () {
  var shown = document.getElementById("confirm");
  var form = shown && shown.closest("form");
  var actions = form && form.querySelector("[data-confirm-actions]");
  if (!actions) return;

  function withdraw(event) {
    var box = document.getElementById("confirm");
    if (!box || (event.target && box.contains(event.target))) return;
    box.remove();
    actions.hidden = false;
    form.removeEventListener("input", withdraw);
    form.removeEventListener("change", withdraw);
    document.body.removeEventListener("compose-changed", withdraw);
  }

  form.addEventListener("input", withdraw);
  form.addEventListener("change", withdraw);
  // "Use standard characters" (Compose) swaps the text box (htmx) and says so with this event.
  document.body.addEventListener("compose-changed", withdraw);
})();
