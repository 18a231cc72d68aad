// Draws the charts a page describes in `data-chart` attributes (JSON written
// by the server) with Apache ECharts. A point that carries a link opens the
// rows behind it. Every chart sits next to a table with the same figures,
// which is what a reader without scripts, or with a screen reader, uses.
(function () {
  "use strict";

  function point(p) {
    return { value: p.value === null ? "-" : p.value, url: p.url, label: p.label };
  }

  function option(spec) {
    var chart = {
      animation: false,
      aria: { enabled: true },
      textStyle: { fontFamily: "inherit" },
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      tooltip: {
        trigger: "item",
        formatter: function (params) {
          var data = params.data || {};
          return (params.name || "") + (params.seriesName ? " · " + params.seriesName : "") + ": " + (data.label || params.value);
        },
      },
    };
    if (spec.kind === "heatmap") {
      chart.grid.bottom = 48;
      chart.xAxis = { type: "category", data: spec.x, splitArea: { show: true } };
      chart.yAxis = { type: "category", data: spec.y, inverse: true, splitArea: { show: true } };
      chart.visualMap = {
        min: spec.min, max: spec.max, orient: "horizontal", left: "center", bottom: 0,
        inRange: { color: ["#b3261e", "#f2c14e", "#1b7f3b"] },
      };
      chart.series = [{
        type: "heatmap",
        name: spec.title,
        data: spec.cells.map(function (c) {
          return { value: [c.x, c.y, c.value], label: c.label, url: c.url };
        }),
      }];
      return chart;
    }
    chart.xAxis = { type: "category", data: spec.x };
    chart.yAxis = { type: "value", name: spec.unit || "", scale: spec.kind === "line" };
    chart.series = spec.series.map(function (s) {
      return { type: spec.kind, name: s.name, data: s.points.map(point), symbolSize: 8 };
    });
    if (spec.series.length > 1) {
      chart.legend = { top: 0 };
    }
    return chart;
  }

  function draw(element) {
    var spec;
    try {
      spec = JSON.parse(element.getAttribute("data-chart"));
    } catch (e) {
      return;
    }
    var chart = echarts.init(element, null, { renderer: "svg" });
    chart.setOption(option(spec));
    chart.on("click", function (params) {
      if (params.data && params.data.url) {
        window.location.assign(params.data.url);
      }
    });
    window.addEventListener("resize", function () { chart.resize(); });
    element.setAttribute("data-drawn", "true");
  }

  function start() {
    if (typeof echarts === "undefined") {
      return;
    }
    document.querySelectorAll("[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
