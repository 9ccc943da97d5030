// Portal-wide behaviour. htmx does the live parts; this only wires what htmx cannot.
document.body.addEventListener("htmx:responseError", function (event) {
  // A failed htmx request must not fail silently: say so where the messages are shown.
  var box = document.getElementById("messages");
  if (!box) return;
  var alert = document.createElement("div");
  alert.className = "alert alert-danger alert-dismissible fade show";
  alert.setAttribute("role", "alert");
  // The words come from <body data-text-*> (templates/base.html), in the page's language.
  var words = document.body.dataset;
  alert.textContent = (words.textServerError || "The server answered {status}. Please try again.")
    .replace("{status}", event.detail.xhr.status);
  var close = document.createElement("button");
  close.type = "button"; close.className = "btn-close";
  close.setAttribute("data-bs-dismiss", "alert"); close.setAttribute("aria-label", words.textClose || "Close");
  alert.appendChild(close);
  box.appendChild(alert);
});

// Forms that ask first: <form data-confirm="Delete this list?">. (The Content-Security-Policy
// forbids inline handlers such as onsubmit=, so the question lives in a data attribute.)
document.addEventListener("submit", function (event) {
  var form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

// A checkbox that ticks every box its selector names: <input type="checkbox" data-select-all=".pick">.
document.addEventListener("change", function (event) {
  var box = event.target.closest("input[data-select-all]");
  if (!box) return;
  document.querySelectorAll(box.dataset.selectAll).forEach(function (other) {
    other.checked = box.checked;
  });
});
