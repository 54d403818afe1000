// The console's only script: draws the charts a page describes in data attributes
// (data-chart holds the ECharts option as JSON), so no page carries inline script and the
// Content-Security-Policy allows scripts from the console's own assets only.
"use strict";

function drawCharts() {
  if (typeof echarts === "undefined") {
    return;
  }
  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var option;
    try {
      option = JSON.parse(element.getAttribute("data-chart"));
    } catch (error) {
      element.textContent = String(error);
      return;
    }
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(option);
    element.setAttribute("data-drawn", "true");
    window.addEventListener("resize", function () { chart.resize(); });
  });
}

document.addEventListener("DOMContentLoaded", drawCharts);
