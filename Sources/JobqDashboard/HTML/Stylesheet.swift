/// The dashboard's one stylesheet, served at `/assets/dashboard.css`: plain CSS in the binary (no
/// build step, no CDN), light and dark from `prefers-color-scheme`, state colours as classes
/// (`state-DONE`, …) shared by badges, table cells and the DAG's SVG nodes.
package enum Stylesheet {
    package static let css = """
    :root { --bg: #fff; --fg: #1d2126; --muted: #5c6670; --line: #d8dde3; --panel: #f5f7f9; --link: #0b5cad;
      --pending: #8a94a0; --running: #1f6fd1; --done: #1d8a3f; --failed: #c62d2d; --cancelled: #a06a00; --skipped: #7a5cc2;
      color-scheme: light dark; }
    @media (prefers-color-scheme: dark) {
      :root { --bg: #14171b; --fg: #e3e7ec; --muted: #9aa4af; --line: #2c333b; --panel: #1c2127; --link: #7cb7ff;
        --pending: #9aa4af; --running: #5a9cf0; --done: #4cc06c; --failed: #f06262; --cancelled: #e0a63a; --skipped: #a98ef0; }
    }
    * { box-sizing: border-box; }
    body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
    a { color: var(--link); }
    a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, tr:focus-visible, main:focus-visible {
      outline: 2px solid var(--link); outline-offset: 2px; }
    .skip { position: absolute; left: -999px; top: 0; background: var(--panel); padding: 6px 10px; }
    .skip:focus { left: 8px; z-index: 10; }
    header { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 10px 16px; border-bottom: 1px solid var(--line); background: var(--panel); }
    header .brand { font-weight: 700; }
    header .namespace { color: var(--muted); }
    header nav { display: flex; gap: 12px; flex-wrap: wrap; }
    header nav a[aria-current] { font-weight: 700; text-decoration: none; color: var(--fg); }
    header .lookup { margin-left: auto; }
    main { padding: 16px; max-width: 1400px; }
    h1 { font-size: 20px; margin: 0 0 12px; word-break: break-all; }
    h2 { font-size: 16px; margin: 20px 0 8px; }
    table { border-collapse: collapse; width: 100%; margin: 8px 0; }
    caption { text-align: left; color: var(--muted); padding: 4px 0; }
    th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { color: var(--muted); font-weight: 600; }
    tbody tr:hover, tbody tr:focus-within { background: var(--panel); }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    pre { background: var(--panel); border: 1px solid var(--line); padding: 8px; overflow: auto; max-height: 24em; white-space: pre-wrap; word-break: break-all; }
    .fields { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
    .fields dt { color: var(--muted); }
    .fields dd { margin: 0; word-break: break-all; }
    .counts { display: flex; flex-wrap: wrap; gap: 12px; list-style: none; padding: 0; }
    .counts li { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; min-width: 110px; background: var(--panel); }
    .counts .n { display: block; font-size: 22px; font-weight: 700; font-variant-numeric: tabular-nums; }
    .badge { display: inline-block; padding: 0 6px; border-radius: 4px; border: 1px solid var(--line); font-size: 12px; font-weight: 600; }
    .state-PENDING { color: var(--pending); } .state-RUNNING { color: var(--running); } .state-DONE { color: var(--done); }
    .state-FAILED { color: var(--failed); } .state-CANCELLED { color: var(--cancelled); } .state-SKIPPED { color: var(--skipped); }
    td.state { font-weight: 600; }
    tr[data-state="PENDING"] td.state { color: var(--pending); } tr[data-state="RUNNING"] td.state { color: var(--running); }
    tr[data-state="DONE"] td.state { color: var(--done); } tr[data-state="FAILED"] td.state { color: var(--failed); }
    tr[data-state="CANCELLED"] td.state { color: var(--cancelled); } tr[data-state="SKIPPED"] td.state { color: var(--skipped); }
    .node rect { fill: var(--panel); stroke: var(--line); }
    .node.state-PENDING rect { fill: var(--pending); } .node.state-RUNNING rect { fill: var(--running); } .node.state-DONE rect { fill: var(--done); }
    .node.state-FAILED rect { fill: var(--failed); } .node.state-CANCELLED rect { fill: var(--cancelled); } .node.state-SKIPPED rect { fill: var(--skipped); }
    .node text { fill: #fff; font-size: 11px; }
    .chart { width: 100%; height: 140px; background: var(--panel); border: 1px solid var(--line); }
    .chart .done { fill: none; stroke: var(--done); stroke-width: 1; }
    .chart .failed { fill: none; stroke: var(--failed); stroke-width: 1; }
    .chart .axis { stroke: var(--line); }
    .chart text { fill: var(--muted); font-size: 10px; }
    .legend .done { color: var(--done); } .legend .failed { color: var(--failed); }
    form.inline { display: inline; }
    form.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin: 8px 0; }
    button { font: inherit; padding: 3px 10px; border-radius: 4px; border: 1px solid var(--line); background: var(--panel); color: var(--fg); cursor: pointer; }
    button.danger { border-color: var(--failed); color: var(--failed); }
    input, select { font: inherit; background: var(--bg); color: var(--fg); border: 1px solid var(--line); border-radius: 4px; padding: 2px 6px; }
    .empty, .muted { color: var(--muted); }
    .notice { border-left: 4px solid var(--running); background: var(--panel); padding: 8px 12px; }
    .error { border-left: 4px solid var(--failed); background: var(--panel); padding: 8px 12px; }
    .pager { margin: 12px 0; }
    .flag { color: var(--failed); font-weight: 600; }
    """
}
