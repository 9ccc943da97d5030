// Draws the report charts from the JSON the page embeds (the same numbers as its tables).
// Words come from the page (data-series on each canvas, in the reader's language); on a
// right-to-left page time runs from right to left and bars grow from the right.
(function () {
  var node = document.getElementById("chart-data");
  if (!node || typeof Chart === "undefined") return;
  var data = JSON.parse(node.textContent);
  var rtl = document.documentElement.dir === "rtl";
  Chart.defaults.plugins.legend.rtl = rtl;
  Chart.defaults.plugins.tooltip.rtl = rtl;
  function series(id, fallback) {
    var canvas = document.getElementById(id);
    return (canvas && canvas.dataset.series) || fallback;
  }
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
    options: { responsive: true, scales: { x: { stacked: true, reverse: rtl }, y: { stacked: true, beginAtZero: true, position: rtl ? "right" : "left" } } },
  });
  draw("chart-rates", {
    type: "bar",
    data: { labels: data.providers, datasets: [{ label: series("chart-rates", "% delivered"), data: data.rates, backgroundColor: "#198754" }] },
    options: { indexAxis: "y", scales: { x: { min: 0, max: 100, reverse: rtl }, y: { position: rtl ? "right" : "left" } }, plugins: { legend: { display: false } } },
  });
  draw("chart-cost", {
    type: "line",
    data: { labels: data.days, datasets: [{ label: series("chart-cost", "cost"), data: data.cost, borderColor: "#0d6efd", fill: false, tension: 0.2 }] },
    options: { plugins: { legend: { display: false } }, scales: { x: { reverse: rtl }, y: { beginAtZero: true, position: rtl ? "right" : "left" } } },
  });
  draw("chart-reasons", {
    type: "bar",
    data: { labels: data.reasons, datasets: [{ label: series("chart-reasons", "deliveries"), data: data.reason_counts, backgroundColor: "#dc3545" }] },
    options: { indexAxis: "y", scales: { x: { reverse: rtl }, y: { position: rtl ? "right" : "left" } }, plugins: { legend: { display: false } } },
  });
})();
