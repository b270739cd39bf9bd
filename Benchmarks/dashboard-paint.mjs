// The browser's side of the run graph benchmark: paint timing of a page in headless Chromium
// (Debian's chromium) over the DevTools protocol. Make the page, then time it:
//
//     swift run -c release --package-path Benchmarks --scratch-path .build-bench JobqBenchmarks dashboard graph --out /tmp/graph.html
//     node --experimental-websocket Benchmarks/dashboard-paint.mjs /tmp/graph.html 7
//
// Prints the median first-contentful-paint of the graph page beside an empty page's, and the
// time to recolour every node (what the live script does per transition, here all at once)
// until two frames later.
import { spawn } from 'node:child_process';
const [page, runsText] = process.argv.slice(2);
const runs = Number(runsText || 5);
const port = 9300 + Math.floor(Math.random() * 500);
const chrome = spawn('chromium', ['--headless', '--no-sandbox', '--disable-gpu', `--remote-debugging-port=${port}`, '--window-size=1400,900', 'about:blank'], { stdio: 'ignore' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let target;
for (let i = 0; i < 100 && !target; i++) {
  try { target = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()).find((t) => t.type === 'page'); } catch { await sleep(100); }
}
const ws = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((r) => ws.addEventListener('open', r));
let id = 0; const waiting = new Map(); const events = [];
ws.addEventListener('message', (m) => { const d = JSON.parse(m.data); if (d.id && waiting.has(d.id)) { waiting.get(d.id)(d); waiting.delete(d.id); } else if (d.method) events.push(d.method); });
const send = (method, params = {}) => new Promise((r) => { const n = ++id; waiting.set(n, r); ws.send(JSON.stringify({ id: n, method, params })); });
await send('Page.enable');
async function load(url) {
  events.length = 0;
  await send('Page.navigate', { url });
  while (!events.includes('Page.loadEventFired')) await sleep(10);
  for (let i = 0; i < 50; i++) {
    const r = await send('Runtime.evaluate', { expression: "(performance.getEntriesByName('first-contentful-paint')[0]||{}).startTime", returnByValue: true });
    if (r.result.result.value) return r.result.result.value;
    await sleep(20);
  }
  return NaN;
}
const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
const empty = [], graph = [], recolour = [];
for (let i = 0; i < runs; i++) {
  empty.push(await load('data:text/html,<p>empty</p>'));
  graph.push(await load('file://' + page));
  const r = await send('Runtime.evaluate', { awaitPromise: true, returnByValue: true, expression: `new Promise((done) => {
    const t0 = performance.now(); const nodes = document.querySelectorAll('[data-task]');
    nodes.forEach((n) => { n.setAttribute('data-state', 'FAILED'); n.classList.remove('state-DONE','state-RUNNING','state-PENDING'); n.classList.add('state-FAILED'); });
    requestAnimationFrame(() => requestAnimationFrame(() => done([nodes.length, performance.now() - t0])));
  })` });
  recolour.push(r.result.result.value);
}
const nodes = await send('Runtime.evaluate', { expression: "document.querySelectorAll('g.node').length", returnByValue: true });
console.log(`graph page: ${nodes.result.result.value} nodes; median of ${runs} loads in headless Chromium`);
console.log(`  first contentful paint, graph page   ${median(graph).toFixed(0)} ms`);
console.log(`  first contentful paint, empty page   ${median(empty).toFixed(0)} ms   (reference)`);
console.log(`  recolour every node + 2 frames       ${median(recolour.map((v) => v[1])).toFixed(0)} ms   (${recolour[0][0]} nodes)`);
ws.close(); chrome.kill();
process.exit(0);
