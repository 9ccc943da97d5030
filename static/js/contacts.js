// The import form: what htmx cannot do. Loaded by that template only.
(function () {
  // An import file over the limit is refused before it is sent: the server stops it as it
  // streams in anyway, but a person should not wait for a gigabyte to learn that.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) return;
    var limit = Number(input.dataset.maxBytes);
    var file = input.files && input.files[0];
    var tooBig = file && file.size > limit;
    input.setCustomValidity(tooBig ? input.dataset.tooBig : "");
    input.classList.toggle("is-invalid", Boolean(tooBig));
    var note = document.getElementById(input.id + "-size-error");
    if (note) {
      note.textContent = tooBig ? input.dataset.tooBig : "";
      note.classList.toggle("d-none", !tooBig);
    }
  });

  document.addEventListener("submit", function (event) {
    if (event.target.querySelector("input[data-max-bytes].is-invalid")) event.preventDefault();
  });
})();
