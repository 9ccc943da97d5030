// A conversation's reply box: the red border of a refused reply ("Write the reply first")
// describes the text as it was sent, so it goes at the first keystroke. The live preview then
// withdraws the error lines themselves (its answer swaps #reply-text-errors and #reply-problem
// out of band, as Compose's withdraws #compose-errors). Delegated: a sent reply swaps the form.
document.addEventListener("input", function (event) {
  var box = event.target.closest("#reply-form textarea.is-invalid");
  if (box) box.classList.remove("is-invalid");
});
