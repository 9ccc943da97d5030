// Portal-wide behaviour. htmx does the live parts; this only wires what htmx cannot.
document.body.addEventListener("htmx:responseError", function (event) {
  // A failed htmx request must not fail silently: say so where the messages are shown.
  var box = document.getElementById("messages");
  if (!box) return;
  var alert = document.createElement("div");
  alert.className = "alert alert-danger alert-dismissible fade show";
  alert.setAttribute("role", "alert");
  alert.textContent = "The server answered " + event.detail.xhr.status + ". Please try again.";
  var close = document.createElement("button");
  close.type = "button"; close.className = "btn-close";
  close.setAttribute("data-bs-dismiss", "alert"); close.setAttribute("aria-label", "Close");
  alert.appendChild(close);
  box.appendChild(alert);
});
