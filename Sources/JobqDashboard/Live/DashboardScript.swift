/// The dashboard's one script, served at `/assets/dashboard.js` (the CSP allows no inline
/// script). Vanilla JavaScript, no build step; the pages are complete without it — it only
/// keeps them current and adds keys:
///
/// - follows `EventSource(document.body.dataset.live)` when the page names a stream: each
///   `transition` sets `data-state` and the `state-…` class of every `[data-task="ID"]` (graph
///   nodes, table rows; a row's `td.state` text too), moves the `[data-count="STATE"]` numbers,
///   rewrites `#run-summary` (`[data-run-state]` badge, `[data-run-summary]` line); a task new to
///   a run whose graph is shown (`#run-graph[data-run]`) fetches the graph section again
///   (`data-graph`); `resync` reloads the page.
/// - keys: `j`/`k` move the focus among the task rows (or among the graph's nodes when one has
///   the focus), Enter opens the focused one, `u`/`d` on a graph node show only its ancestors /
///   descendants.
package enum DashboardScript {
    package static let source = #"""
    // jobq dashboard: live updates and keyboard helpers. The pages work without this script.
    (function () {
      'use strict';
      var order = ['DONE', 'SKIPPED', 'RUNNING', 'PENDING', 'FAILED', 'CANCELLED'];
      var letters = { DONE: 'D', SKIPPED: 'S', RUNNING: 'R', PENDING: 'P', FAILED: 'F', CANCELLED: 'C' };

      function quote(text) { return window.CSS && CSS.escape ? CSS.escape(text) : text.replace(/["\\]/g, '\\$&'); }

      function setClass(el, state) {
        var list = el.classList;
        for (var i = list.length - 1; i >= 0; i--) { if (list[i].indexOf('state-') === 0) list.remove(list[i]); }
        list.add('state-' + state);
      }

      function setState(el, state) {
        el.setAttribute('data-state', state);
        setClass(el, state);
        if (el.tagName === 'TR') {
          var cell = el.querySelector('td.state');
          if (cell) cell.textContent = state;
        }
      }

      function bump(state, delta) {
        if (!state) return;
        var els = document.querySelectorAll('[data-count="' + state + '"]');
        for (var i = 0; i < els.length; i++) {
          var n = parseInt(els[i].textContent, 10) || 0;
          els[i].textContent = String(Math.max(0, n + delta));
        }
      }

      function summarize() {
        var line = document.querySelector('#run-summary [data-run-summary]');
        if (!line) return;
        var parts = [], total = 0;
        order.forEach(function (state) {
          var el = document.querySelector('[data-count="' + state + '"]');
          var n = el ? parseInt(el.textContent, 10) || 0 : 0;
          total += n;
          if (n > 0) parts.push(n + letters[state]);
        });
        line.textContent = (parts.length ? parts.join(' + ') : '0') + ' = ' + total;
      }

      // Graph refresh: a task new to the run is drawn by fetching the section again.
      var refreshTimer = null, sinceFetch = null;
      function refreshGraph() {
        if (refreshTimer) return;
        refreshTimer = setTimeout(function () {
          refreshTimer = null;
          var graph = document.getElementById('run-graph');
          if (!graph || !graph.getAttribute('data-graph')) return;
          sinceFetch = {};
          fetch(new URL(graph.getAttribute('data-graph'), location.href), { credentials: 'same-origin' })
            .then(function (r) { return r.ok ? r.text() : null; })
            .then(function (html) {
              var current = document.getElementById('run-graph');
              var seen = sinceFetch; sinceFetch = null;
              if (!html || !current) return;
              var template = document.createElement('template');
              template.innerHTML = html;
              var fresh = template.content.getElementById('run-graph');
              if (!fresh) return;
              var focused = document.activeElement && document.activeElement.getAttribute('data-task');
              current.replaceWith(fresh);
              // transitions that arrived while the section was being fetched
              Object.keys(seen).forEach(function (task) {
                var nodes = fresh.querySelectorAll('[data-task="' + quote(task) + '"]');
                for (var i = 0; i < nodes.length; i++) setState(nodes[i], seen[task]);
              });
              if (focused) { var again = fresh.querySelector('[data-task="' + quote(focused) + '"]'); if (again) again.focus(); }
            })
            .catch(function () { sinceFetch = null; });
        }, 250);
      }

      function onTransition(event) {
        var t;
        try { t = JSON.parse(event.data); } catch (e) { return; }
        if (!t || !t.to) return;
        if (!t.task) {
          // a run's own transition
          var summary = document.getElementById('run-summary');
          if (summary && t.run && summary.getAttribute('data-run') === t.run) {
            summary.setAttribute('data-state', t.to);
            var badge = summary.querySelector('[data-run-state] .badge');
            if (badge) { badge.textContent = t.to; setClass(badge, t.to); }
          }
          return;
        }
        var els = document.querySelectorAll('[data-task="' + quote(t.task) + '"]');
        // The state the page shows is the truth for counting (a replayed or duplicate event
        // moves nothing); the event's `from` when the task is not on the page.
        var from = t.from;
        if (els.length) from = els[0].getAttribute('data-state') || t.from;
        for (var i = 0; i < els.length; i++) setState(els[i], t.to);
        if (sinceFetch) sinceFetch[t.task] = t.to;
        if (from !== t.to) { bump(from, -1); bump(t.to, 1); summarize(); }
        var graph = document.getElementById('run-graph');
        if (graph && t.from == null && t.run && graph.getAttribute('data-run') === t.run && !graph.querySelector('[data-task="' + quote(t.task) + '"]') && !graph.querySelector('.node.group')) {
          refreshGraph();
        }
      }

      function follow() {
        var url = document.body && document.body.getAttribute('data-live');
        if (!url || !window.EventSource) return;
        var source = new EventSource(url);
        source.addEventListener('transition', onTransition);
        source.addEventListener('resync', function () { source.close(); location.reload(); });
        // A page left behind must not keep its stream: browsers allow 6 HTTP/1.1 connections
        // per host, and open streams of earlier pages would stall the next page's requests.
        window.addEventListener('pagehide', function () { source.close(); });
      }

      // Keys: j/k among rows (or graph nodes), Enter opens, u/d focus a node's ancestors/descendants.
      function items(near) {
        var inGraph = near && near.closest && near.closest('svg');
        return Array.prototype.slice.call(document.querySelectorAll(inGraph ? 'svg .node[tabindex]' : 'tr[data-task][tabindex], tr[tabindex]'));
      }
      function open(el) {
        var link = el.closest('a') || el.querySelector('a[href]');
        if (!link) return;
        var href = link.getAttribute('href');
        if (href) location.href = new URL(href, location.href).href;
      }
      function onKey(event) {
        if (event.ctrlKey || event.metaKey || event.altKey) return;
        var target = event.target;
        if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(target.tagName))) return;
        var active = document.activeElement;
        var key = event.key;
        if (key === 'j' || key === 'k') {
          var list = items(active);
          if (!list.length) { list = items(null); if (!list.length) list = Array.prototype.slice.call(document.querySelectorAll('svg .node[tabindex]')); }
          if (!list.length) return;
          var at = list.indexOf(active);
          var next = at < 0 ? 0 : Math.min(list.length - 1, Math.max(0, at + (key === 'j' ? 1 : -1)));
          list[next].focus();
          event.preventDefault();
        } else if (key === 'Enter' && active && active.matches && active.matches('[data-task][tabindex], .node[tabindex], tr[tabindex]')) {
          open(active);
          event.preventDefault();
        } else if ((key === 'u' || key === 'd') && active && active.matches && active.matches('svg .node[data-task]')) {
          var params = new URLSearchParams(location.search);
          params.set('focus', active.getAttribute('data-task'));
          params.set('dir', key === 'u' ? 'up' : 'down');
          location.search = params.toString();
          event.preventDefault();
        }
      }

      function start() {
        follow();
        document.addEventListener('keydown', onKey);
      }
      if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
    })();
    """#
}
