// Draws the report charts from the JSON the page embeds (the same numbers as its tables).
(function () {
  var node = document.getElementById("chart-data");
  if (!node || typeof Chart === "undefined") return;
  var data = JSON.parse(node.textContent);
  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) new Chart(canvas, config);
  }
  draw("chart-days", {
    type: "bar",
    data: {
      labels: data.days,
      datasets: data.statuses.map(function (s) {
        return { label: s.label, data: s.data, backgroundColor: s.color };
      }),
    },
    options: { responsive: true, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
  });
  draw("chart-rates", {
    type: "bar",
    data: { labels: data.providers, datasets: [{ label: "% delivered", data: data.rates, backgroundColor: "#198754" }] },
    options: { indexAxis: "y", scales: { x: { min: 0, max: 100 } }, plugins: { legend: { display: false } } },
  });
  draw("chart-cost", {
    type: "line",
    data: { labels: data.days, datasets: [{ label: "cost", data: data.cost, borderColor: "#0d6efd", fill: false, tension: 0.2 }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
  });
  draw("chart-reasons", {
    type: "bar",
    data: { labels: data.reasons, datasets: [{ label: "deliveries", data: data.reason_counts, backgroundColor: "#dc3545" }] },
    options: { indexAxis: "y", plugins: { legend: { display: false } } },
  });
})();
