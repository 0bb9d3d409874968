// lens maps: points of a 2-D UMAP coloured by class (a theme), with a legend
// and a tooltip for the point under the mouse. One copy serves report.html
// (lens analyze --map inlines this file) and the service's UI (/map.js).
//
// lensMap.draw(fig, data) draws into fig, an element holding a <canvas> and
// a .maptip element (and optionally a <figcaption>, the legend goes before
// it). data = {classes: [names], grey: index of the class drawn grey (the
// "unassigned" theme) or -1, points: [[x, y, class, up, text], ...]} where
// up is 1 (positive), 0 (negative) or null, and text is what the tooltip
// shows. lensMap.drawAll(root) draws every figure.map under root from the
// JSON in its .mapdata script element.
'use strict';
var lensMap = (function () {
  var COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7',
    '#9c755f', '#2f5bd3', '#8cd17d', '#d37295', '#a0cbe8', '#ffbe7d', '#86bcb6', '#f1ce63'];
  var CELL = 8; // px: hovering searches the points of the 3 x 3 cells around the mouse

  // the value at fraction f of the sorted array a
  function quantile(a, f) { return a[Math.min(a.length - 1, Math.floor(f * (a.length - 1) + 0.5))]; }
  function clamp(v, a, b) { return v < a ? a : v > b ? b : v; }

  function draw(fig, data) {
    var cv = fig.querySelector('canvas'), tip = fig.querySelector('.maptip'), P = data.points;
    var ctx = cv.getContext('2d'), W = cv.width, H = cv.height;
    var colour = function (c) { return c === data.grey ? '#b7bcc6' : COLOURS[c % COLOURS.length]; };
    ctx.clearRect(0, 0, W, H);
    // the view spans the middle 99% of points; the few outliers sit on its edge
    var X = P.map(function (p) { return p[0]; }).sort(function (a, b) { return a - b; });
    var Y = P.map(function (p) { return p[1]; }).sort(function (a, b) { return a - b; });
    var x0 = quantile(X, 0.005), x1 = quantile(X, 0.995), y0 = quantile(Y, 0.005), y1 = quantile(Y, 0.995);
    cv.dataset.view = [x0, x1, y0, y1].join(',');
    var sx = (W - 20) / ((x1 - x0) || 1), sy = (H - 20) / ((y1 - y0) || 1), grid = {};
    var px = function (p) { return [10 + (clamp(p[0], x0, x1) - x0) * sx, 10 + (y1 - clamp(p[1], y0, y1)) * sy]; };
    ctx.globalAlpha = 0.75;
    P.forEach(function (p, i) {
      var q = px(p);
      ctx.fillStyle = colour(p[2]);
      ctx.fillRect(q[0] - 1.5, q[1] - 1.5, 3, 3);
      var k = Math.floor(q[0] / CELL) + ',' + Math.floor(q[1] / CELL);
      (grid[k] = grid[k] || []).push(i);
    });
    var old = fig.querySelector('.legend');
    if (old) old.remove();
    var legend = document.createElement('p');
    legend.className = 'legend';
    data.classes.forEach(function (name, c) {
      var s = document.createElement('span'), i = document.createElement('i');
      i.style.background = colour(c);
      s.appendChild(i);
      s.appendChild(document.createTextNode(name));
      legend.appendChild(s);
    });
    fig.insertBefore(legend, fig.querySelector('figcaption'));
    cv.onmousemove = function (e) {
      var r = cv.getBoundingClientRect(), mx = (e.clientX - r.left) * W / r.width, my = (e.clientY - r.top) * H / r.height;
      var best = -1, bd = 64, cx = Math.floor(mx / CELL), cy = Math.floor(my / CELL);
      for (var a = cx - 1; a <= cx + 1; a++) {
        for (var b = cy - 1; b <= cy + 1; b++) {
          (grid[a + ',' + b] || []).forEach(function (i) {
            var q = px(P[i]), d = (q[0] - mx) * (q[0] - mx) + (q[1] - my) * (q[1] - my);
            if (d < bd) { bd = d; best = i; }
          });
        }
      }
      if (best < 0) { tip.hidden = true; return; }
      var p = P[best], head = document.createElement('b');
      head.textContent = data.classes[p[2]] + (p[3] === 1 ? ' · positive' : p[3] === 0 ? ' · negative' : '');
      tip.hidden = false;
      tip.textContent = '';
      tip.appendChild(head);
      tip.appendChild(document.createTextNode(' ' + p[4]));
      tip.style.left = (e.clientX - r.left + 12) + 'px';
      tip.style.top = (e.clientY - r.top + 12) + 'px';
    };
    cv.onmouseleave = function () { tip.hidden = true; };
  }

  function drawAll(root) {
    (root || document).querySelectorAll('figure.map').forEach(function (fig) {
      draw(fig, JSON.parse(fig.querySelector('.mapdata').textContent));
    });
  }

  return { draw: draw, drawAll: drawAll };
})();
