// Draws the credits page's "Balance over time" chart from the JSON the page embeds.
// The time axis comes computed from the server (fixed to the period, ticks at local midnights),
// so the page needs no date library; a balance holds until the next reading, so the lines are
// steps, and the last reading is carried on to "now".
(function () {
  var node = document.getElementById("balance-history");
  var canvas = document.getElementById("balance-chart");
  if (!node || !canvas || typeof Chart === "undefined") return;
  var history = JSON.parse(node.textContent);
  // On a right-to-left page time runs from right to left, the amounts' axis on the right.
  var rtl = document.documentElement.dir === "rtl";
  var axis = history.axis;
  var tickLabels = {};
  axis.ticks.forEach(function (t) { tickLabels[t[0]] = t[1]; });
  var colours = ["#0d6efd", "#198754", "#dc3545", "#fd7e14", "#6f42c1", "#20c997", "#6c757d"];
  var points = 0;

  var datasets = history.series.map(function (s, i) {
    var data = s.points.map(function (p) { return {x: p[0], y: p[1], label: p[2]}; });
    points += data.length;
    var last = data[data.length - 1];
    if (last && last.x < axis.max) {
      data.push({x: axis.max, y: last.y, label: axis.now_label + " " + (canvas.dataset.latest || "(latest reading)"), carried: true});
    }
    return {
      label: s.account,
      data: data,
      stepped: "after",
      borderColor: colours[i % colours.length],
      backgroundColor: colours[i % colours.length],
      borderWidth: 2,
      pointRadius: function (ctx) {
        var p = ctx.raw || {};
        return p.carried ? 0 : (points > 60 ? 0 : 3);
      },
    };
  });

  new Chart(canvas, {
    type: "line",
    data: {datasets: datasets},
    options: {
      animation: false,
      interaction: {mode: "nearest", intersect: false},
      scales: {
        x: {
          type: "linear",
          reverse: rtl,
          min: axis.min,
          max: axis.max,
          afterBuildTicks: function (scale) {
            scale.ticks = axis.ticks.map(function (t) { return {value: t[0]}; });
          },
          ticks: {autoSkip: true, maxRotation: 0, callback: function (value) { return tickLabels[value] || ""; }},
        },
        y: {beginAtZero: true, position: rtl ? "right" : "left", title: {display: true, text: canvas.dataset.unit || "credits"},
            ticks: {callback: function (v) { return Number(v).toLocaleString("en"); }}},
      },
      plugins: {
        legend: {rtl: rtl},
        tooltip: {rtl: rtl, callbacks: {
          title: function (items) { return items[0].raw.label; },
          label: function (item) { return item.dataset.label + ": " + Number(item.parsed.y).toLocaleString("en"); },
        }},
      },
    },
  });
})();
