/* Tandem report: draws the data inlined in #tandem-data with Vega (inlined before this
 * script). Plain JS, no framework. Embedded into index.html by reports/embed.cmake.
 * When every initial view has rendered, <html> gets data-rendered="N" (views) and
 * data-render-ms (time since navigation start); errors are counted in data-errors. */
(function () {
  'use strict';
  var tStart = performance.now(); /* Vega and the data are parsed by now */
  var D = JSON.parse(document.getElementById('tandem-data').textContent);
  var app = document.getElementById('app');
  var COLORS = ['#1f6fb4', '#d9541e', '#2a9d4b', '#8e44ad'];
  var views = [];          /* every Vega view that takes part in the shared selection */
  var pending = [];        /* promises of the initial renders */
  var selected = null;     /* key "run:id" of the selected design */
  var designDrawers = {};  /* key -> opens and draws that design's section */
  var runs = D.runs;
  var compare = runs.length > 1;

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === 'text') e.textContent = attrs[k];
        else if (k === 'cls') e.className = attrs[k];
        else e.setAttribute(k, attrs[k]);
      });
    }
    (kids || []).forEach(function (c) {
      if (c == null) return;
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return e;
  }
  function fmt(v) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'number') {
      if (!isFinite(v)) return String(v);
      if (Number.isInteger(v)) return String(v);
      var a = Math.abs(v);
      if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(4);
      return String(Number(v.toPrecision(6)));
    }
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }
  function unitOf(name) {
    var exact = { error: 'fraction', accuracy: 'fraction', params: 'count', macs: 'count',
                  cycles: 'cycles', utilization: 'fraction', peak_tops: 'TOPS',
                  effective_tops: 'TOPS' };
    if (exact[name] !== undefined) return exact[name];
    if (/accuracy$/.test(name)) return 'fraction';
    var suf = [['_ms', 'ms'], ['_us', 'us'], ['_uj', 'uJ'], ['_nj', 'nJ'], ['_pj', 'pJ'],
               ['_mw', 'mW'], ['_mm2', 'mm2'], ['_um2', 'um2'], ['_mhz', 'MHz'],
               ['_gbps', 'GB/s'], ['_kib', 'KiB'], ['_bytes', 'bytes'], ['_tops', 'TOPS'],
               ['_per_s', '1/s'], ['_cycles', 'cycles'], ['_s', 's'], ['_w', 'W']];
    for (var i = 0; i < suf.length; i++) {
      var s = suf[i][0];
      if (name.length > s.length && name.slice(-s.length) === s) return suf[i][1];
    }
    return '';
  }
  function label(name) { var u = unitOf(name); return u ? name + ' (' + u + ')' : name; }
  function na(text) { return el('p', { cls: 'na', text: text }); }
  function kvTable(rows) {
    var t = el('table', { cls: 'kv' });
    rows.forEach(function (r) {
      t.appendChild(el('tr', null, r.map(function (c, i) {
        return el('td', { cls: (i === 1 && typeof c === 'number') ? 'num' : '', text: fmt(c) });
      })));
    });
    return t;
  }
  function isScalar(v) { return v === null || ['number', 'string', 'boolean'].indexOf(typeof v) >= 0; }
  function runLabel(ri) { return compare ? String.fromCharCode(65 + ri) + ': ' + runs[ri].name : runs[ri].name; }
  function keyOf(ri, id) { return ri + ':' + id; }
  function designAnchor(ri, id) { return 'design-' + ri + '-' + id; }

  function makeView(spec, container) {
    var v = new vega.View(vega.parse(spec, null, { ast: true }),
                          { expr: vega.expressionInterpreter, renderer: 'canvas',
                            container: container, hover: true });
    return v;
  }
  function track(v, shared) {
    if (shared) {
      views.push(v);
      v.addEventListener('click', function (ev, item) {
        if (item && item.datum && item.datum.key !== undefined) select(item.datum.key, true);
      });
      v.addEventListener('mouseover', function (ev, item) {
        if (item && item.datum && item.datum.tip) hoverInfo(item.datum);
      });
    }
    var p = v.runAsync();
    pending.push(p);
    return p;
  }

  /* ---- points shared by the front views ---- */
  var objNames = runs[0].objectives.map(function (o) { return o.name; });
  var sameObjectives = runs.every(function (r) {
    return r.objectives.map(function (o) { return o.name; }).join('|') === objNames.join('|');
  });
  var points = [];
  var byKey = {};
  runs.forEach(function (r, ri) {
    r.points.forEach(function (p) {
      var q = { key: keyOf(ri, p[0]), run: runLabel(ri), ri: ri, id: p[0], gen: p[1],
                front: p[2], violation: p[3] };
      var tip = [runLabel(ri) + ' design ' + p[0] + ' (generation ' + p[1] +
                 (p[2] ? ', Pareto' : '') + (p[3] > 0 ? ', violation ' + fmt(p[3]) : '') + ')'];
      for (var k = 0; k < r.objectives.length; k++) {
        q['o' + k] = p[4 + k];
        tip.push(label(r.objectives[k].name) + ': ' + fmt(p[4 + k]));
      }
      var desc = p[4 + r.objectives.length];
      if (desc) tip.push(desc);
      q.tip = tip.join('\n');
      /* styles as fields, so drawing needs no per-item expression */
      q.size = p[2] ? 55 : 14;
      q.opacity = p[2] ? 0.95 : 0.16;
      q.stroke = p[2] ? '#1d232b' : 'transparent';
      points.push(q);
      byKey[q.key] = q;
    });
  });
  /* dominated first, so the front is drawn on top */
  points.sort(function (a, b) { return a.front - b.front; });

  /* All pairwise scatter plots in one view (one dataflow: the points are ingested once),
   * a grid of groups, each with its own scales and axes. */
  var PW = 250, PH = 210, CELL_W = 320, CELL_H = 270, PER_ROW = 4;
  function matrixSpec(pairs) {
    var rows = Math.ceil(pairs.length / PER_ROW);
    var groups = pairs.map(function (pr, g) {
      var i = pr[0], j = pr[1];
      return {
        type: 'group', name: 'cell' + g,
        encode: { enter: { x: { value: 55 + (g % PER_ROW) * CELL_W }, y: { value: 10 + Math.floor(g / PER_ROW) * CELL_H },
                           width: { value: PW }, height: { value: PH } } },
        scales: [
          { name: 'x', type: 'linear', domain: { data: 'points', field: 'o' + i }, range: [0, PW], nice: true, zero: false },
          { name: 'y', type: 'linear', domain: { data: 'points', field: 'o' + j }, range: [PH, 0], nice: true, zero: false }
        ],
        axes: [
          { scale: 'x', orient: 'bottom', title: label(objNames[i]), tickCount: 5, grid: true,
            gridOpacity: 0.35, labelFontSize: 10, titleFontSize: 11 },
          { scale: 'y', orient: 'left', title: label(objNames[j]), tickCount: 5, grid: true,
            gridOpacity: 0.35, labelFontSize: 10, titleFontSize: 11 }
        ],
        marks: [
          { type: 'symbol', from: { data: 'points' },
            encode: { enter: { x: { scale: 'x', field: 'o' + i }, y: { scale: 'y', field: 'o' + j },
                               fill: { scale: 'c', field: 'run' }, tooltip: { field: 'tip' },
                               size: { field: 'size' }, fillOpacity: { field: 'opacity' },
                               stroke: { field: 'stroke' }, strokeWidth: { value: 0.7 } } } },
          /* the selected design, on top: the `sel` signal filters it out of the points */
          { type: 'symbol', from: { data: 'selected' }, interactive: false,
            encode: { update: { x: { scale: 'x', field: 'o' + i }, y: { scale: 'y', field: 'o' + j },
                                fill: { scale: 'c', field: 'run' }, size: { value: 180 },
                                stroke: { value: '#000' }, strokeWidth: { value: 2.5 } } } }
        ]
      };
    });
    return {
      width: 55 + (Math.min(pairs.length, PER_ROW) - 1) * CELL_W + PW + 10, height: rows * CELL_H,
      padding: 4, autosize: 'none',
      signals: [{ name: 'sel', value: null }],
      data: [{ name: 'points', values: points },
             { name: 'selected', source: 'points', transform: [{ type: 'filter', expr: 'datum.key === sel' }] }],
      scales: [{ name: 'c', type: 'ordinal', domain: runs.map(function (r, ri) { return runLabel(ri); }),
                 range: COLORS }],
      marks: groups
    };
  }

  function parallelSpec() {
    var n = objNames.length;
    var lo = [], hi = [];
    for (var k = 0; k < n; k++) {
      lo.push(Infinity); hi.push(-Infinity);
      points.forEach(function (p) {
        lo[k] = Math.min(lo[k], p['o' + k]); hi[k] = Math.max(hi[k], p['o' + k]);
      });
    }
    var W = Math.max(420, 170 * n), H = 260;
    var segs = [];     /* front segments: one rule each, with a tooltip */
    var faded = [];    /* dominated lines: one path for all of them, in pixels */
    points.forEach(function (p) {
      var y = [];
      for (var k = 0; k < n; k++) y.push(hi[k] > lo[k] ? (p['o' + k] - lo[k]) / (hi[k] - lo[k]) : 0.5);
      if (!p.front) {
        var d = '';
        for (var k2 = 0; k2 < n; k2++) {
          d += (k2 ? 'L' : 'M') + (W * k2 / Math.max(1, n - 1)).toFixed(1) + ',' + (H * (1 - y[k2])).toFixed(1);
        }
        faded.push(d);
        return;
      }
      for (var s = 0; s + 1 < n; s++) {
        segs.push({ key: p.key, run: p.run, tip: p.tip, d0: s, d1: s + 1, y0: y[s], y1: y[s + 1] });
      }
    });
    /* the selected design's segments, dominated or not */
    var all = [];
    points.forEach(function (p) {
      for (var s = 0; s + 1 < n; s++) {
        var a = hi[s] > lo[s] ? (p['o' + s] - lo[s]) / (hi[s] - lo[s]) : 0.5;
        var b = hi[s + 1] > lo[s + 1] ? (p['o' + (s + 1)] - lo[s + 1]) / (hi[s + 1] - lo[s + 1]) : 0.5;
        all.push({ key: p.key, run: p.run, d0: s, d1: s + 1, y0: a, y1: b });
      }
    });
    var dims = objNames.map(function (name, k) {
      return { d: k, name: label(name), lo: fmt(lo[k]), hi: fmt(hi[k]) };
    });
    return {
      width: W, height: H, padding: { top: 30, bottom: 30, left: 70, right: 70 },
      autosize: 'none',
      signals: [{ name: 'sel', value: null }],
      data: [{ name: 'segs', values: segs }, { name: 'dims', values: dims },
             { name: 'faded', values: [{ path: faded.join('') }] },
             { name: 'all', values: all },
             { name: 'selected', source: 'all', transform: [{ type: 'filter', expr: 'datum.key === sel' }] }],
      scales: [
        { name: 'x', type: 'linear', domain: [0, Math.max(1, n - 1)], range: 'width' },
        { name: 'y', type: 'linear', domain: [0, 1], range: 'height' },
        { name: 'c', type: 'ordinal', domain: runs.map(function (r, ri) { return runLabel(ri); }),
          range: COLORS }
      ],
      marks: [
        { type: 'path', from: { data: 'faded' }, interactive: false,
          encode: { enter: { path: { field: 'path' }, stroke: { value: '#8a96a3' },
                             strokeOpacity: { value: 0.12 }, strokeWidth: { value: 0.8 } } } },
        { type: 'rule', from: { data: 'segs' },
          encode: { enter: { x: { scale: 'x', field: 'd0' }, y: { scale: 'y', field: 'y0' },
                             x2: { scale: 'x', field: 'd1' }, y2: { scale: 'y', field: 'y1' },
                             stroke: { scale: 'c', field: 'run' }, tooltip: { field: 'tip' },
                             strokeOpacity: { value: 0.85 }, strokeWidth: { value: 1.4 } } } },
        { type: 'rule', from: { data: 'selected' }, interactive: false,
          encode: { update: { x: { scale: 'x', field: 'd0' }, y: { scale: 'y', field: 'y0' },
                              x2: { scale: 'x', field: 'd1' }, y2: { scale: 'y', field: 'y1' },
                              stroke: { value: '#000' }, strokeWidth: { value: 3.5 } } } },
        { type: 'rule', from: { data: 'dims' },
          encode: { enter: { x: { scale: 'x', field: 'd' }, y: { value: 0 },
                             y2: { signal: 'height' }, stroke: { value: '#555' } } } },
        { type: 'text', from: { data: 'dims' },
          encode: { enter: { x: { scale: 'x', field: 'd' }, y: { value: -16 }, align: { value: 'center' },
                             text: { field: 'name' }, fontWeight: { value: 'bold' }, fontSize: { value: 11 } } } },
        { type: 'text', from: { data: 'dims' },
          encode: { enter: { x: { scale: 'x', field: 'd' }, y: { value: -4 }, align: { value: 'center' },
                             text: { field: 'hi' }, fontSize: { value: 10 }, fill: { value: '#555' } } } },
        { type: 'text', from: { data: 'dims' },
          encode: { enter: { x: { scale: 'x', field: 'd' }, y: { signal: 'height + 14' },
                             align: { value: 'center' }, text: { field: 'lo' }, fontSize: { value: 10 },
                             fill: { value: '#555' } } } }
      ]
    };
  }

  function hvSpec(rows) {
    return {
      width: 420, height: 200, padding: 4, autosize: 'pad',
      data: [{ name: 'g', values: rows }],
      scales: [
        { name: 'x', type: 'linear', domain: { data: 'g', field: 'gen' }, range: 'width', zero: false },
        { name: 'y', type: 'linear', domain: { data: 'g', field: 'hv' }, range: 'height', zero: false, nice: true },
        { name: 'c', type: 'ordinal', domain: runs.map(function (r, ri) { return runLabel(ri); }),
          range: COLORS }
      ],
      axes: [{ scale: 'x', orient: 'bottom', title: 'generation', tickMinStep: 1 },
             { scale: 'y', orient: 'left', title: 'hypervolume' }],
      marks: [
        { type: 'group', from: { facet: { name: 'series', data: 'g', groupby: 'run' } },
          marks: [{ type: 'line', from: { data: 'series' },
                    encode: { enter: { x: { scale: 'x', field: 'gen' }, y: { scale: 'y', field: 'hv' },
                                       stroke: { scale: 'c', field: 'run' }, strokeWidth: { value: 2 } } } }] },
        { type: 'symbol', from: { data: 'g' },
          encode: { enter: { x: { scale: 'x', field: 'gen' }, y: { scale: 'y', field: 'hv' },
                             fill: { scale: 'c', field: 'run' }, size: { value: 30 },
                             tooltip: { signal: "datum.run + ': generation ' + datum.gen + ', hypervolume ' + format(datum.hv, '.4~g')" } } } }
      ]
    };
  }

  function barSpec(rows, xTitle) {
    return {
      width: 300, height: Math.max(40, 16 * rows.length), padding: 4, autosize: 'pad',
      data: [{ name: 't', values: rows }],
      scales: [
        { name: 'y', type: 'band', domain: { data: 't', field: 'name' }, range: 'height', padding: 0.15 },
        { name: 'x', type: 'linear', domain: { data: 't', field: 'v' }, range: 'width', nice: true, zero: true }
      ],
      axes: [{ scale: 'x', orient: 'bottom', title: xTitle, tickCount: 4 },
             { scale: 'y', orient: 'left', labelLimit: 120 }],
      marks: [{ type: 'rect', from: { data: 't' },
                encode: { enter: { y: { scale: 'y', field: 'name' }, height: { scale: 'y', band: 1 },
                                   x: { scale: 'x', value: 0 }, x2: { scale: 'x', field: 'v' },
                                   fill: { value: '#1f6fb4' },
                                   tooltip: { signal: "datum.name + ': ' + format(datum.v, '.4~g')" } } } }]
    };
  }

  function rooflineSpec(roof, pts, ridge) {
    return {
      width: 380, height: 240, padding: 4, autosize: 'pad',
      data: [{ name: 'roof', values: roof }, { name: 'pts', values: pts }],
      scales: [
        { name: 'x', type: 'log', domain: { fields: [{ data: 'roof', field: 'i' }, { data: 'pts', field: 'i' }] },
          range: 'width', nice: true },
        { name: 'y', type: 'log', domain: { fields: [{ data: 'roof', field: 'p' }, { data: 'pts', field: 'p' }] },
          range: 'height', nice: true }
      ],
      axes: [{ scale: 'x', orient: 'bottom', title: 'operational intensity (ops/DRAM byte)', grid: true, gridOpacity: 0.3 },
             { scale: 'y', orient: 'left', title: 'performance (GOPS)', grid: true, gridOpacity: 0.3 }],
      marks: [
        { type: 'line', from: { data: 'roof' },
          encode: { enter: { x: { scale: 'x', field: 'i' }, y: { scale: 'y', field: 'p' },
                             stroke: { value: '#444' }, strokeWidth: { value: 2 } } } },
        { type: 'symbol', from: { data: 'pts' },
          encode: { enter: { x: { scale: 'x', field: 'i' }, y: { scale: 'y', field: 'p' },
                             fill: { value: '#d9541e' }, size: { value: 50 },
                             tooltip: { signal: "datum.name + ': ' + format(datum.i, '.3~g') + ' ops/B, ' + format(datum.p, '.4~g') + ' GOPS'" } } } }
      ]
    };
  }

  /* ---- selection shared across views, the table and the panel ---- */
  var selPanel, hoverPanel;
  function hoverInfo(d) {
    hoverPanel.textContent = d.tip.replace(/\n/g, ' | ');
  }
  function select(key, scroll) {
    selected = key;
    views.forEach(function (v) { v.signal('sel', key).runAsync(); });
    document.querySelectorAll('tr.selected').forEach(function (tr) { tr.classList.remove('selected'); });
    var row = document.querySelector('tr[data-key="' + key + '"]');
    if (row) row.classList.add('selected');
    selPanel.textContent = '';
    var p = byKey[key];
    if (!p) return;
    selPanel.appendChild(el('b', { text: 'Selected:' }));
    selPanel.appendChild(document.createTextNode(p.tip.replace(/\n/g, ' | ') + ' '));
    if (p.front) {
      selPanel.appendChild(el('a', { href: '#' + designAnchor(p.ri, p.id), text: 'design section' }));
    }
    if (scroll && row) row.scrollIntoView({ block: 'nearest' });
  }

  /* ---- sections ---- */
  function header() {
    var title = compare ? 'Tandem report: ' + runs.map(function (r, ri) { return runLabel(ri); }).join(' vs ')
                        : 'Tandem report: ' + runs[0].name;
    return el('header', { cls: 'top' }, [
      el('h1', { text: title }),
      el('p', { text: 'Generated ' + D.generated_at + ' by ' + D.generator + ', Vega ' + (D.vega_version || '(Debian libjs-vega)') +
                      '. Objectives are all minimised; dominated points are faded, the front is highlighted.' })
    ]);
  }

  function summarySection(r, ri) {
    var s = el('section', { id: 'summary-' + ri }, [el('h2', { text: 'Run summary: ' + runLabel(ri) })]);
    var rows = r.summary.map(function (x) { return [x[0], x[1], x[2]]; });
    s.appendChild(kvTable(rows));
    var cols = el('div', { cls: 'cols' });
    var b = el('div', null, [el('h3', { text: 'Objectives and budget' })]);
    if (r.budget.length) b.appendChild(kvTable(r.budget));
    else b.appendChild(na('not available for this run (the config could not be read)'));
    var sp = el('div', null, [el('h3', { text: 'Search space' })]);
    if (r.space.length) {
      sp.appendChild(el('details', null, [el('summary', { text: r.space.length + ' space keys of the run\'s config' }),
                                          kvTable(r.space)]));
    }
    else sp.appendChild(na('not available for this run (the config could not be read)'));
    cols.appendChild(b); cols.appendChild(sp);
    s.appendChild(cols);
    if (r.failures.length) {
      s.appendChild(el('h3', { text: 'Failures' }));
      s.appendChild(kvTable(r.failures.map(function (f) { return [f[0], f[1]]; })));
    }
    /* where the numbers come from, over the front designs */
    s.appendChild(el('h3', { text: 'Where the numbers come from' }));
    var prov = {};
    r.designs.forEach(function (d) {
      var p = provenanceOf(d.metrics || {});
      if (!p || typeof p !== 'object') return;
      Object.keys(p).forEach(function (k) {
        prov[k] = prov[k] || {};
        prov[k][String(p[k])] = (prov[k][String(p[k])] || 0) + 1;
      });
    });
    var pk = Object.keys(prov);
    if (pk.length) {
      s.appendChild(kvTable(pk.map(function (k) {
        return [k, Object.keys(prov[k]).map(function (v) { return v + ' (' + prov[k][v] + ' designs)'; }).join('; ')];
      })));
      s.appendChild(el('p', { cls: 'note', text: 'From the "provenance" and "*_source" metrics of the ' + r.designs.length + ' Pareto designs; designs without them are not counted.' }));
    } else {
      s.appendChild(na('not recorded for this run: no Pareto design carries a "provenance" metric saying which numbers come from synthesis, published tables or scaling'));
    }
    var det = el('details', null, [el('summary', { text: 'Resolved config (config.yaml as stored in the archive)' }),
                                   el('pre', { text: r.config_yaml || '(not stored)' })]);
    s.appendChild(det);
    if (r.config_note) s.appendChild(na(r.config_note));
    return s;
  }

  /* --compare: the two summaries side by side (each run's details follow the designs) */
  function compareSummary() {
    var s = el('section', { id: 'compare' }, [el('h2', { text: 'Runs compared' })]);
    var labels = [];
    runs.forEach(function (r) { r.summary.forEach(function (x) { if (labels.indexOf(x[0]) < 0) labels.push(x[0]); }); });
    var t = el('table', { cls: 'kv' }, [el('tr', null, [el('th', { text: '' })].concat(runs.map(function (r, ri) {
      return el('th', { text: runLabel(ri) + ' (' + r.dir + ')' });
    })))]);
    labels.forEach(function (lab) {
      t.appendChild(el('tr', null, [el('td', { text: lab })].concat(runs.map(function (r) {
        var row = r.summary.filter(function (x) { return x[0] === lab; })[0];
        return el('td', { cls: row && typeof row[1] === 'number' ? 'num' : '', text: row ? fmt(row[1]) : '' });
      }))));
    });
    s.appendChild(t);
    s.appendChild(el('p', { cls: 'note', text: 'Each run\'s config, budget, search space and failures are at the end of the page.' }));
    return s;
  }

  function frontSection() {
    var s = el('section', { id: 'front' }, [el('h2', { text: 'The front' })]);
    selPanel = el('div', { cls: 'panel', id: 'selection' }, [el('span', { cls: 'note', text: 'Click a point or a table row to select a design in every plot.' })]);
    hoverPanel = el('div', { cls: 'note', id: 'hover' }, ['Hover a point to see its design.']);
    s.appendChild(selPanel);
    s.appendChild(hoverPanel);
    if (compare) {
      var leg = el('p');
      runs.forEach(function (r, ri) {
        var sw = el('span', { cls: 'swatch' });
        sw.style.background = COLORS[ri];
        leg.appendChild(sw); leg.appendChild(document.createTextNode(runLabel(ri) + ' (' + r.dir + ')  '));
      });
      s.appendChild(leg);
      if (!sameObjectives) {
        s.appendChild(na('the runs have different objectives; the plots use the first run\'s objective names by position'));
      }
    }
    if (!points.length || objNames.length < 2) {
      s.appendChild(na('not available for this run: no successful evaluation with every objective yet'));
      return s;
    }
    s.appendChild(el('h3', { text: 'Pairwise objectives' }));
    var pairs = [];
    for (var i = 0; i < objNames.length; i++) {
      for (var j = i + 1; j < objNames.length; j++) pairs.push([i, j]);
    }
    var grid = el('div', { cls: 'plot', id: 'scatter' });
    s.appendChild(grid);
    track(makeView(matrixSpec(pairs), grid), true);
    s.appendChild(el('h3', { text: 'Parallel coordinates' }));
    s.appendChild(el('p', { cls: 'note', text: 'Each axis runs from the best value seen (bottom) to the worst (top).' }));
    var pc = el('div', { cls: 'plot', id: 'parallel' });
    s.appendChild(pc);
    track(makeView(parallelSpec(), pc), true);
    return s;
  }

  function hvSection() {
    var s = el('section', { id: 'hypervolume' }, [el('h2', { text: 'Hypervolume per generation' })]);
    var rows = [];
    runs.forEach(function (r, ri) {
      r.generations.forEach(function (g) {
        if (g[1] !== null) rows.push({ run: runLabel(ri), gen: g[0], hv: g[1], evals: g[2] });
      });
    });
    if (!rows.length) {
      s.appendChild(na('not available for this run: the archive holds no generation with a hypervolume yet'));
      return s;
    }
    var c = el('div', { cls: 'plot', id: 'hv' });
    s.appendChild(c);
    track(makeView(hvSpec(rows), c), false);
    return s;
  }

  function tableSection(r, ri) {
    var s = el('section', { id: 'pareto-' + ri }, [el('h2', { text: 'Pareto designs: ' + runLabel(ri) + ' (' + r.designs.length + ')' })]);
    if (!r.designs.length) {
      s.appendChild(na('not available for this run: no Pareto design yet'));
      return s;
    }
    var extra = ['accuracy', 'params', 'macs', 'power_mw'].filter(function (k) {
      return objNames.indexOf(k) < 0 && r.designs.some(function (d) { return typeof d.metrics[k] === 'number'; });
    });
    var cols = [{ name: 'design', get: function (d) { return d.id; } },
                { name: 'generation', get: function (d) { return d.generation; } }];
    r.objectives.forEach(function (o, k) {
      cols.push({ name: label(o.name), get: function (d) { return d.objectives[k]; } });
    });
    extra.forEach(function (k) { cols.push({ name: label(k), get: function (d) { return d.metrics[k]; } }); });
    var t = el('table', { cls: 'sortable', id: 'pareto-table-' + ri });
    var thead = el('tr');
    var tbody = el('tbody');
    var sortCol = 1 + 1, dir = 1;
    function render() {
      var ds = r.designs.slice().sort(function (a, b) {
        var x = cols[sortCol].get(a), y = cols[sortCol].get(b);
        return (x < y ? -1 : x > y ? 1 : 0) * dir;
      });
      tbody.textContent = '';
      ds.forEach(function (d) {
        var key = keyOf(ri, d.id);
        var tr = el('tr', { 'data-key': key });
        if (key === selected) tr.classList.add('selected');
        cols.forEach(function (c, ci) {
          var td = el('td', { cls: 'num' });
          if (ci === 0) td.appendChild(el('a', { href: '#' + designAnchor(ri, d.id), text: String(d.id) }));
          else td.textContent = fmt(c.get(d));
          tr.appendChild(td);
        });
        tr.addEventListener('click', function (ev) { if (ev.target.tagName !== 'A') select(key, false); });
        tbody.appendChild(tr);
      });
      Array.prototype.forEach.call(thead.children, function (th, ci) {
        th.className = ci === sortCol ? (dir > 0 ? 'asc' : 'desc') : '';
      });
    }
    cols.forEach(function (c, ci) {
      var th = el('th', { text: c.name, title: 'sort' });
      th.addEventListener('click', function () {
        if (sortCol === ci) dir = -dir; else { sortCol = ci; dir = 1; }
        render();
      });
      thead.appendChild(th);
    });
    t.appendChild(el('thead', null, [thead]));
    t.appendChild(tbody);
    render();
    s.appendChild(t);
    s.appendChild(el('p', { cls: 'note', text: 'Click a column to sort; click a row to select the design in the plots; the design number opens its section.' }));
    return s;
  }

  /* ---- a design's section, drawn when first opened ---- */
  function layerName(l, i) { return String(l.name || l.op || l.type || 'layer') + ' #' + (l.node !== undefined ? l.node : i); }
  /* "provenance" (or "sources", "tech_source"), plus every "<what>_source" string metric
   * (e.g. energy_source: "published 45 nm figures"), as one object; null when none. */
  function provenanceOf(m) {
    var p = m.provenance || m.sources || m.tech_source;
    var out = null;
    if (typeof p === 'string') out = { all: p };
    else if (p && typeof p === 'object') {
      out = {};
      /* "origins" repeats the flat per-entry origins as nested objects; other nested values
       * are shown as JSON */
      Object.keys(p).forEach(function (k) {
        if (k === 'origins') return;
        out[k] = (p[k] && typeof p[k] === 'object') ? JSON.stringify(p[k]) : p[k];
      });
    }
    Object.keys(m).forEach(function (k) {
      if (/_source$/.test(k) && k !== 'tech_source' && typeof m[k] === 'string') {
        out = out || {};
        out[k.replace(/_source$/, '')] = m[k];
      }
    });
    return out;
  }
  function objNamesOf(r) { return r.objectives.map(function (o) { return o.name; }); }
  function objectOf(m, keys) {
    for (var i = 0; i < keys.length; i++) {
      var v = m[keys[i]];
      if (v && typeof v === 'object' && !Array.isArray(v)) return { key: keys[i], value: v };
    }
    return null;
  }
  function numericEntries(o) {
    return Object.keys(o).filter(function (k) { return typeof o[k] === 'number'; })
      .map(function (k) { return { name: k, v: o[k] }; });
  }
  function designBody(r, ri, d, box) {
    var m = d.metrics || {};
    var hw = objectOf(m, ['hw', 'accelerator', 'hw_config']);
    /* objectives and scalar metrics */
    box.appendChild(el('h4', { text: 'Objectives and metrics' }));
    var rows = r.objectives.map(function (o, k) { return [label(o.name), d.objectives[k], 'objective']; });
    Object.keys(m).forEach(function (k) {
      if (isScalar(m[k]) && objNamesOf(r).indexOf(k) < 0) rows.push([label(k), m[k], '']);
    });
    rows.push(['violation', d.violation, 'total constraint violation (0 = feasible)']);
    rows.push(['hashes', 'candidate ' + d.candidate_hash + ', net ' + d.net_hash + ', hw ' + d.hw_hash, '']);
    box.appendChild(kvTable(rows));
    /* accuracies: this evaluation's (the search's proxy training) and those of the same
     * candidate at other fidelities (e.g. `test`: finalists retrained and scored on the
     * test set) */
    box.appendChild(el('h4', { text: 'Accuracy: proxy vs full training vs test' }));
    var accKey = function (k) { return /accuracy$|^proxy_error$|^epochs$|^train_images$/.test(k); };
    var accRows = [];
    [{ fidelity: d.fidelity, metrics: m }].concat(d.other_fidelities || []).forEach(function (o) {
      Object.keys(o.metrics || {}).filter(function (k) {
        return accKey(k) && typeof o.metrics[k] === 'number';
      }).forEach(function (k) { accRows.push([o.fidelity, label(k), o.metrics[k]]); });
    });
    if (accRows.length) {
      var at = el('table', null, [el('tr', null, [el('th', { text: 'fidelity' }), el('th', { text: 'metric' }),
                                                  el('th', { text: 'value' })])]);
      accRows.forEach(function (x) {
        at.appendChild(el('tr', null, [el('td', { text: x[0] }), el('td', { text: x[1] }),
                                       el('td', { cls: 'num', text: fmt(x[2]) })]));
      });
      box.appendChild(at);
    } else {
      box.appendChild(na('not available for this run'));
    }
    /* accelerator */
    box.appendChild(el('h4', { text: 'Accelerator config' }));
    if (hw) box.appendChild(kvTable(Object.keys(hw.value).map(function (k) { return [label(k), hw.value[k]]; })));
    else box.appendChild(na('not available for this run (the metrics hold no "hw" object); genome: ' + JSON.stringify(d.genome)));
    /* layers */
    var layers = Array.isArray(m.layers) ? m.layers : null;
    box.appendChild(el('h4', { text: 'Network layers' }));
    if (layers && layers.length) {
      var keys = [];
      layers.forEach(function (l) { Object.keys(l).forEach(function (k) { if (keys.indexOf(k) < 0) keys.push(k); }); });
      var t = el('table', null, [el('tr', null, keys.map(function (k) { return el('th', { text: label(k) }); }))]);
      layers.forEach(function (l) {
        t.appendChild(el('tr', null, keys.map(function (k) {
          return el('td', { cls: typeof l[k] === 'number' ? 'num' : '', text: fmt(l[k]) });
        })));
      });
      box.appendChild(t);
    } else {
      box.appendChild(na('not available for this run (the metrics hold no "layers" list)'));
    }
    /* per-layer latency and energy; latency from cycles and the clock when not given */
    var h = hw ? hw.value : {};
    var clock = typeof h.clock_mhz === 'number' ? h.clock_mhz : (typeof m.clock_mhz === 'number' ? m.clock_mhz : null);
    function layerMs(l) {
      if (typeof l.latency_ms === 'number') return l.latency_ms;
      if (typeof l.cycles === 'number' && clock) return l.cycles / (clock * 1e3);
      return null;
    }
    box.appendChild(el('h4', { text: 'Per-layer latency and energy' }));
    var lat = layers ? layers.map(function (l, i) {
      var ms = layerMs(l);
      return { name: layerName(l, i), v: ms !== null ? ms : (typeof l.cycles === 'number' ? l.cycles : null) };
    }).filter(function (x) { return x.v !== null; }) : [];
    var latUnit = layers && layers.some(function (l) { return layerMs(l) !== null; }) ? 'latency (ms)' : 'cycles';
    var en = layers ? layers.filter(function (l) { return typeof l.energy_uj === 'number'; })
      .map(function (l, i) { return { name: layerName(l, i), v: l.energy_uj }; }) : [];
    if (lat.length || en.length) {
      var row = el('div', { cls: 'grid' });
      box.appendChild(row);
      if (lat.length) { var c1 = el('div', { cls: 'plot' }); row.appendChild(c1); track(makeView(barSpec(lat, latUnit), c1), false); }
      if (en.length) { var c2 = el('div', { cls: 'plot' }); row.appendChild(c2); track(makeView(barSpec(en, 'energy (uJ)'), c2), false); }
      if (latUnit === 'latency (ms)' && !layers.some(function (l) { return typeof l.latency_ms === 'number'; })) {
        box.appendChild(el('p', { cls: 'note', text: 'Layer latency = cycles / clock (' + fmt(clock) + ' MHz).' }));
      }
    } else {
      box.appendChild(na('not available for this run'));
    }
    /* roofline */
    box.appendChild(el('h4', { text: 'Roofline' }));
    var peak = typeof m.peak_tops === 'number' ? m.peak_tops * 1e3 : null; /* GOPS */
    if (peak === null && typeof h.rows === 'number' && typeof h.cols === 'number' && clock) {
      peak = 2 * h.rows * h.cols * clock / 1e3;
    }
    var bw = typeof h.dram_gbps === 'number' ? h.dram_gbps : (typeof m.dram_gbps === 'number' ? m.dram_gbps : null);
    var rp = layers ? layers.map(function (l, i) {
      var ms = layerMs(l);
      if (!(typeof l.macs === 'number' && l.macs > 0 && typeof l.dram_bytes === 'number' && l.dram_bytes > 0 && ms > 0)) return null;
      return { name: layerName(l, i), i: 2 * l.macs / l.dram_bytes, p: 2 * l.macs / (ms * 1e-3) / 1e9 };
    }).filter(function (x) { return x !== null; }) : [];
    if (peak && bw && rp.length) {
      var lo = Math.min.apply(null, rp.map(function (x) { return x.i; }).concat([peak / bw])) / 4;
      var hi2 = Math.max.apply(null, rp.map(function (x) { return x.i; }).concat([peak / bw])) * 4;
      var roof = [];
      for (var q = 0; q <= 40; q++) {
        var ii = lo * Math.pow(hi2 / lo, q / 40);
        roof.push({ i: ii, p: Math.min(peak, bw * ii) });
      }
      roof.push({ i: peak / bw, p: peak });
      roof.sort(function (a, b) { return a.i - b.i; });
      var c3 = el('div', { cls: 'plot' });
      box.appendChild(c3);
      box.appendChild(el('p', { cls: 'note', text: 'Peak ' + fmt(peak) + ' GOPS, DRAM ' + fmt(bw) + ' GB/s; one point per layer (2 ops per MAC).' }));
      track(makeView(rooflineSpec(roof, rp, peak / bw), c3), false);
    } else {
      box.appendChild(na('not available for this run (needs peak_tops or hw rows/cols/clock_mhz, dram_gbps, and per-layer macs, dram_bytes and latency_ms or cycles)'));
    }
    /* area and power breakdown */
    box.appendChild(el('h4', { text: 'Area and power breakdown' }));
    var parts = [['area', ['area_breakdown', 'area'], 'area (mm2)'], ['power', ['power_breakdown', 'power'], 'power (mW)'],
                 ['energy', ['energy_breakdown', 'energy'], 'energy (uJ)']];
    var any = false;
    var row2 = el('div', { cls: 'grid' });
    parts.forEach(function (p) {
      var o = objectOf(m, p[1]);
      if (!o) return;
      var ent = numericEntries(o.value);
      if (!ent.length) return;
      any = true;
      var c = el('div', { cls: 'plot' });
      row2.appendChild(c);
      track(makeView(barSpec(ent, p[2]), c), false);
    });
    if (any) box.appendChild(row2);
    else box.appendChild(na('not available for this run'));
    /* analytical vs SystemC */
    box.appendChild(el('h4', { text: 'Analytical vs SystemC (and other fidelities)' }));
    var others = (d.other_fidelities || []).slice();
    if (m.systemc && typeof m.systemc === 'object') others.push({ fidelity: 'systemc', metrics: m.systemc });
    /* finalists: their accelerator simulated with the trained, quantized network */
    (d.other_fidelities || []).forEach(function (o) {
      var s = o.metrics && o.metrics.systemc;
      if (s && typeof s === 'object' && s.ran !== false)
        others.push({ fidelity: 'systemc (' + o.fidelity + ', trained weights)', metrics: s });
    });
    if (others.length) {
      others.forEach(function (o) {
        var ks = Object.keys(o.metrics).filter(function (k) { return typeof o.metrics[k] === 'number' && typeof m[k] === 'number'; });
        var t = el('table', null, [el('tr', null, [el('th', { text: 'metric' }), el('th', { text: d.fidelity }),
                                                     el('th', { text: o.fidelity }), el('th', { text: o.fidelity + ' / ' + d.fidelity })])]);
        ks.forEach(function (k) {
          t.appendChild(el('tr', null, [el('td', { text: label(k) }), el('td', { cls: 'num', text: fmt(m[k]) }),
                                        el('td', { cls: 'num', text: fmt(o.metrics[k]) }),
                                        el('td', { cls: 'num', text: m[k] ? fmt(o.metrics[k] / m[k]) : '' })]));
        });
        box.appendChild(ks.length ? t : na('the ' + o.fidelity + ' evaluation shares no numeric metric with this one'));
      });
    } else {
      box.appendChild(na('not available for this run (this design was not simulated)'));
    }
    /* provenance */
    box.appendChild(el('h4', { text: 'Where the numbers come from' }));
    var prov = provenanceOf(m);
    if (prov && typeof prov === 'object') box.appendChild(kvTable(Object.keys(prov).map(function (k) { return [k, prov[k]]; })));
    else if (typeof prov === 'string') box.appendChild(el('p', { text: prov }));
    else box.appendChild(na('not recorded for this design (synthesis, published tables or scaling: the metrics hold no "provenance")'));
    /* RTL */
    box.appendChild(el('h4', { text: 'Generate its Verilog' }));
    box.appendChild(el('pre', { cls: 'cmd', text: d.rtl_command }));
  }

  function designSection(r, ri) {
    var s = el('section', { id: 'designs-' + ri }, [el('h2', { text: 'Designs: ' + runLabel(ri) })]);
    if (!r.designs.length) { s.appendChild(na('not available for this run: no Pareto design yet')); return s; }
    r.designs.forEach(function (d, di) {
      var det = el('details', { cls: 'design', id: designAnchor(ri, d.id) });
      var sum = el('summary', { text: 'Design ' + d.id + ' (generation ' + d.generation + '): ' +
        r.objectives.map(function (o, k) { return o.name + ' ' + fmt(d.objectives[k]); }).join(', ') });
      det.appendChild(sum);
      var body = el('div');
      det.appendChild(body);
      var drawn = null;
      function draw() { /* draws the section once; resolves when its charts have rendered */
        if (!drawn) {
          var before = pending.length;
          designBody(r, ri, d, body);
          drawn = Promise.all(pending.slice(before));
        }
        return drawn;
      }
      det.addEventListener('toggle', function () {
        if (det.open) { draw(); select(keyOf(ri, d.id), false); }
      });
      designDrawers[keyOf(ri, d.id)] = function () { det.open = true; return draw(); };
      s.appendChild(det);
    });
    return s;
  }

  function openFromHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    if (id.indexOf('design-') !== 0) return;
    var det = document.getElementById(id);
    if (det && det.tagName === 'DETAILS') { det.open = true; det.scrollIntoView(); }
  }

  /* ---- page ---- */
  app.textContent = '';
  app.appendChild(header());
  var toc = el('nav', { cls: 'toc' });
  app.appendChild(toc);
  var main = el('main');
  app.appendChild(main);
  var sections = [];
  if (compare) sections.push(compareSummary());
  else sections.push(summarySection(runs[0], 0));
  sections.push(frontSection());
  sections.push(hvSection());
  runs.forEach(function (r, ri) { sections.push(tableSection(r, ri)); });
  runs.forEach(function (r, ri) { sections.push(designSection(r, ri)); });
  if (compare) runs.forEach(function (r, ri) { sections.push(summarySection(r, ri)); });
  sections.forEach(function (s) {
    main.appendChild(s);
    var h = s.querySelector('h2');
    if (h) toc.appendChild(el('a', { href: '#' + s.id, text: h.textContent.replace(/ \(\d+\)$/, '') }));
  });
  window.addEventListener('hashchange', openFromHash);
  openFromHash();
  var tBuilt = performance.now(); /* DOM built, views created and their first run queued */
  Promise.all(pending).then(function () {
    var root = document.documentElement;
    root.setAttribute('data-views', String(pending.length));
    root.setAttribute('data-canvases', String(document.querySelectorAll('#app canvas').length));
    root.setAttribute('data-points', String(points.length));
    root.setAttribute('data-script-ms', String(Math.round(tStart)));
    root.setAttribute('data-build-ms', String(Math.round(tBuilt)));
    root.setAttribute('data-render-ms', String(Math.round(performance.now())));
    root.setAttribute('data-rendered', String(pending.length));
    if (location.hash === '#selftest') selfTest();
  }).catch(function (e) {
    window.tandemErrors.push('render: ' + e);
    document.documentElement.setAttribute('data-errors', String(window.tandemErrors.length));
    document.documentElement.setAttribute('data-rendered', 'failed');
  });
  /* #selftest: the interaction path, as a reader uses it. Moves the pointer over a
   * Pareto design in the scatter plots (the hover panel must show it), clicks it (every view's
   * `sel` signal and the table row must follow), then opens its design section and counts the
   * charts drawn there. Sets data-selftest ("ok" or "fail: why") and data-design-canvases. */
  function locate(v, key) { /* canvas position of the design's symbol in view v */
    var pad = v.padding(), org = v.origin(); /* the renderer draws at origin + padding */
    var o = [org[0] + (pad.left || 0), org[1] + (pad.top || 0)];
    function walk(node, ox, oy) {
      if (!node || !node.items) return null;
      for (var i = 0; i < node.items.length; i++) {
        var it = node.items[i];
        if (node.marktype === 'group') {
          for (var k = 0; k < (it.items || []).length; k++) {
            var r = walk(it.items[k], ox + (it.x || 0), oy + (it.y || 0));
            if (r) return r;
          }
        } else if (node.marktype === 'symbol' && node.interactive !== false && it.datum &&
                   it.datum.key === key) {
          return { x: ox + it.x, y: oy + it.y };
        }
      }
      return null;
    }
    return walk(v.scenegraph().root, o[0], o[1]);
  }
  function pointer(v, type, pos) {
    var canvas = v.container().querySelector('canvas');
    var r = canvas.getBoundingClientRect();
    canvas.dispatchEvent(new MouseEvent(type, { clientX: r.left + pos.x, clientY: r.top + pos.y,
                                                bubbles: true, cancelable: true, view: window }));
  }
  function selfTest() {
    var root = document.documentElement;
    /* the last point drawn is on top of any it overlaps: the pointer finds it */
    var first = points[points.length - 1];
    if (!first || !first.front || !views.length) { root.setAttribute('data-selftest', 'fail: no front'); return; }
    var why = [];
    var pos = locate(views[0], first.key);
    if (!pos) why.push('design ' + first.id + ' not found in the scatter plots');
    else {
      pointer(views[0], 'mousemove', pos);
      if (hoverPanel.textContent.indexOf(' design ' + first.id + ' ') < 0) why.push('hover panel: ' + hoverPanel.textContent);
      ['mousedown', 'mouseup', 'click'].forEach(function (t) { pointer(views[0], t, pos); });
    }
    Promise.all(views.map(function (v) { return v.runAsync(); })).then(function () {
      views.forEach(function (v, i) {
        if (v.signal('sel') !== first.key) why.push('view ' + i + ' sel=' + v.signal('sel'));
      });
      var row = document.querySelector('tr.selected');
      if (!row || row.getAttribute('data-key') !== first.key) why.push('table row not selected');
      return designDrawers[first.key] ? designDrawers[first.key]() : null;
    }).then(function () {
      var sec = document.getElementById(designAnchor(first.ri, first.id));
      root.setAttribute('data-design-canvases', String(sec ? sec.querySelectorAll('canvas').length : 0));
      root.setAttribute('data-selftest', why.length ? 'fail: ' + why.join('; ') : 'ok');
    }).catch(function (e) {
      window.tandemErrors.push('selftest: ' + e);
      root.setAttribute('data-errors', String(window.tandemErrors.length));
      root.setAttribute('data-selftest', 'fail: ' + e);
    });
  }
  window.tandemReport = { views: views, select: select, data: D, selfTest: selfTest };
}());
