// The overview's only script: draws the charts (uPlot, served by the runtime) from the page's JSON
// block and keeps the page live: each server-sent "update" fetches the overview again and
// replaces the numbers and the chart data, without a reload.
'use strict';
(function () {
  var block = document.getElementById('overview-data');
  if (!block || typeof uPlot === 'undefined') return;
  var data = JSON.parse(block.textContent);
  var palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
  var ackColours = { AA: '#2ca02c', CA: '#98df8a', AE: '#ff7f0e', CE: '#ffbb78', AR: '#d62728', CR: '#ff9896' };
  var charts = {};

  function sum(cols) {
    var n = 0;
    cols.forEach(function (c) { c.forEach(function (v) { n += v; }); });
    return n;
  }

  function draw(id, x, columns, stacked) {
    var el = document.getElementById(id);
    if (!el) return;
    var names = Object.keys(columns).sort();
    var cols = names.map(function (n) { return columns[n]; });
    el.setAttribute('data-series', names.join(','));
    el.setAttribute('data-points', String(x.length));
    el.setAttribute('data-total', String(sum(cols)));
    var plotted = cols;
    if (stacked) {
      // Stacked bars: each series is drawn as the running total up to it, the largest first.
      var acc = x.map(function () { return 0; });
      plotted = cols.map(function (c) { acc = acc.map(function (v, i) { return v + c[i]; }); return acc.slice(); }).reverse();
      names = names.slice().reverse();
    }
    var series = [{}].concat(names.map(function (n, i) {
      var colour = stacked ? (ackColours[n] || palette[i % palette.length]) : palette[i % palette.length];
      var s = { label: n, stroke: colour, width: 1.5, points: { show: false } };
      if (stacked) { s.fill = colour; s.paths = uPlot.paths.bars({ size: [0.8, 40] }); }
      return s;
    }));
    var opts = { width: Math.max(320, el.clientWidth || 800), height: 220, series: series, scales: { x: { time: true } }, legend: { live: false } };
    var payload = [x].concat(plotted.length ? plotted : []);
    var existing = charts[id];
    if (existing && existing.series.length === series.length) {
      existing.setData(payload);
      return;
    }
    if (existing) existing.destroy();
    charts[id] = new uPlot(opts, payload, el);
  }

  function drawAll() {
    draw('chart-messages', data.series.x, data.series.bySender, false);
    draw('chart-acks', data.series.x, data.series.byAck, true);
  }

  function replace(id, html) {
    var body = document.querySelector('#' + id + ' tbody');
    if (body) body.innerHTML = html;
  }

  function refresh() {
    fetch('/overview.json?range=' + encodeURIComponent(data.range), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (next) {
        if (!next) return;
        data = next.data;
        replace('summaries', next.html.summaries);
        replace('senders', next.html.senders);
        replace('runs', next.html.runs);
        if (next.html.launches !== undefined) replace('launches', next.html.launches);
        if (next.html.exports !== undefined) replace('exports', next.html.exports);
        document.getElementById('total-messages').textContent = String(data.messages);
        document.getElementById('dead-letters').textContent = String(data.deadLetters);
        drawAll();
        document.body.setAttribute('data-updated', String(Date.now()));
      })
      .catch(function () { /* the next update tries again */ });
  }

  drawAll();
  var live = document.getElementById('live');
  var events = new EventSource('/events');
  events.addEventListener('update', refresh);
  events.addEventListener('open', function () { if (live) live.className = 'live on'; });
  events.addEventListener('error', function () { if (live) live.className = 'live off'; });
})();
