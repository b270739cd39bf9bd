"""End-to-end tests of `jobq dashboard` in a real headless Chromium (Selenium, Debian's chromium).

Starts its own redis-server (Unix socket), two `jobq-worker`s with the test handlers, and a
dashboard, then drives the pages as a user would. Run by scripts/browser-test.sh (part of
scripts/test.sh); the binaries come from `swift build --show-bin-path` (JOBQ_BIN).

What is checked, and against what:
- a DAG node changes colour within 1 s of its transition: the browser's own clock (a
  MutationObserver's timestamps) against the transition's time in the event stream (the stream
  id's milliseconds, Redis's clock on this same machine);
- retry and cancel from the page: the task's state read back with `jobq status --json`;
- paging through a run with 100,000 tasks in the namespace: each page the next tasks in order;
- a non-loopback `--listen` without auth is refused (exit status and error code);
- a screenshot of every page, kept in SCREENSHOT_DIR for a person to look at.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

BIN = os.environ.get("JOBQ_BIN") or sys.exit("JOBQ_BIN (the directory holding jobq and jobq-worker) is not set")
SCREENSHOTS = os.environ.get("SCREENSHOT_DIR", os.path.join(os.getcwd(), ".build", "dashboard-screenshots"))
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", shutil.which("chromedriver") or "/usr/bin/chromedriver")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, predicate, timeout=20.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Stack:
    """A private redis-server, two workers and one dashboard, all stopped at the end."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="jobq-browser-")
        self.socket = os.path.join(self.dir, "redis.sock")
        self.processes = []
        self.logs = []
        self.redis = self.start(["redis-server", "--port", "0", "--unixsocket", self.socket,
                                 "--save", "", "--appendonly", "no", "--dir", self.dir], "redis")
        wait_until("redis-server's socket", lambda: os.path.exists(self.socket))
        self.env = dict(os.environ, JOBQ_REDIS_URL=f"unix://{self.socket}", JOBQ_NAMESPACE="browser")
        for n in (1, 2):
            self.start([f"{BIN}/jobq-worker", "--enable-test-handlers", "--concurrency", "4",
                        "--worker-id", f"browser-worker-{n}", "--queues", "default"], f"worker-{n}")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.start([f"{BIN}/jobq", "dashboard", "--listen", f"127.0.0.1:{self.port}"], "dashboard")
        wait_until("the dashboard to answer", self.answers)

    def start(self, argv, name):
        log = open(os.path.join(self.dir, name + ".log"), "wb")
        self.logs.append(log)
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                   env=getattr(self, "env", os.environ), start_new_session=True)
        self.processes.append(process)
        return process

    def answers(self):
        try:
            with urllib.request.urlopen(self.url + "/", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def jobq(self, *args, stdin=None, check=True):
        result = subprocess.run([f"{BIN}/jobq", *args], input=stdin, capture_output=True,
                                text=True, env=self.env, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"jobq {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def status(self, task):
        return json.loads(self.jobq("status", task, "--json").stdout)

    def submit_file(self, text, suffix=".yaml"):
        path = os.path.join(self.dir, f"wf-{time.monotonic_ns()}{suffix}")
        with open(path, "w") as f:
            f.write(text)
        return self.jobq("submit", "-f", path).stdout.strip()

    def stop(self):
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for log in self.logs:
            log.close()
            # kept beside the screenshots: what the workers and the dashboard said
            shutil.copy(log.name, os.path.join(SCREENSHOTS, os.path.basename(log.name)))
        shutil.rmtree(self.dir, ignore_errors=True)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1400,1000", "--force-prefers-reduced-motion"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


# Records, for every element with data-task, each data-state it takes and when (epoch ms).
OBSERVE_STATES = """
window.__jobqSeen = [];
const note = (el) => window.__jobqSeen.push(
  [el.dataset.task, el.dataset.state, performance.timeOrigin + performance.now()]);
document.querySelectorAll('[data-task]').forEach(note);
new MutationObserver((changes) => {
  for (const c of changes) {
    if (c.type === 'attributes' && c.target.dataset && c.target.dataset.task) note(c.target);
    for (const n of c.addedNodes || []) {
      if (n.dataset && n.dataset.task) note(n);
      if (n.querySelectorAll) n.querySelectorAll('[data-task]').forEach(note);
    }
  }
}).observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-state']});
"""


class DashboardInBrowser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(SCREENSHOTS, exist_ok=True)
        cls.stack = Stack()
        cls.driver = browser()

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()
        cls.stack.stop()

    def open(self, path):
        self.driver.get(self.stack.url + path)
        self.assertNotIn("Internal Server Error", self.driver.page_source)

    def screenshot(self, name):
        self.driver.save_screenshot(os.path.join(SCREENSHOTS, name + ".png"))

    def node(self, task):
        return self.driver.find_element(By.CSS_SELECTOR, f'svg [data-task="{task}"]')

    def test_1_dag_node_changes_colour_within_a_second_of_its_transition(self):
        run = self.stack.submit_file("""
workflow: live
tasks:
  - id: gate
    handler: jobq.echo
    wait_for: go
  - id: slow
    handler: jobq.sleep
    payload: {seconds: 1.5}
    after: [gate]
  - id: left
    handler: jobq.sleep
    payload: {seconds: 0.5}
    after: [slow]
  - id: right
    handler: jobq.echo
    after: [slow]
  - id: join
    handler: jobq.echo
    after: [left, right]
""")
        self.open(f"/runs/{run}")
        self.assertEqual(self.node(f"{run}/gate").get_attribute("data-state"), "PENDING")
        fill = self.driver.execute_script(
            "return getComputedStyle(arguments[0].querySelector('rect')).fill", self.node(f"{run}/gate"))
        self.driver.execute_script(OBSERVE_STATES)
        self.stack.jobq("signal", f"{run}/gate", "go")
        wait_until("the run to end", lambda: self.stack.status(run)["run"]["state"] == "DONE", timeout=30)
        time.sleep(1.2)  # every transition's last chance to reach the page
        self.screenshot("run-live-dag")

        seen = self.driver.execute_script("return window.__jobqSeen")
        events = [json.loads(line) for line in
                  self.stack.jobq("events", "--run", run, "--json").stdout.splitlines() if line.strip()]
        transitions = [e for e in events if e.get("task") and e.get("to")]
        self.assertGreaterEqual(len(transitions), 10, "each of the 5 tasks starts and ends")
        # Per task, its states in order, each with the time the stream recorded it.
        lags = []
        for event in transitions:
            task, state = event["task"], event["to"]
            at = int(event["stream_id"].split("-")[0])
            later = [t for (t_task, t_state, t) in seen if t_task == task and t_state == state]
            final = event is [e for e in transitions if e["task"] == task][-1]
            if not later:
                # A state held for a few milliseconds may be overtaken by the next one before the
                # page hears of it; a task's final state must always arrive.
                self.assertFalse(final, f"{task} never showed {state} in the page")
                continue
            lags.append((task, state, later[0] - at))
        print("\nbrowser lag behind the transition (ms):",
              ", ".join(f"{t.split('/')[-1]}→{s} {lag:.0f}" for t, s, lag in lags))
        for task, state, lag in lags:
            self.assertLess(lag, 1000, f"{task} showed {state} {lag:.0f} ms after the transition")
        done_fill = self.driver.execute_script(
            "return getComputedStyle(arguments[0].querySelector('rect')).fill", self.node(f"{run}/gate"))
        self.assertNotEqual(fill, done_fill, "a DONE node is not drawn in the colour of a PENDING one")

    def test_2_retry_from_the_task_page(self):
        task = self.stack.jobq("submit", "jobq.fail", "--payload", '{"times": 1}', "--retries", "0").stdout.strip()
        wait_until("the task to fail", lambda: self.stack.status(task)["state"] == "FAILED")
        self.open(f"/tasks/{task}")
        self.screenshot("task-failed")
        self.click_action("retry-task")
        # a retry re-opens the task with a fresh attempt budget: it runs (and fails) once more
        wait_until("the retried task to run again and end",
                   lambda: (lambda s: s["state"] == "FAILED" and len(s["attempt_history"]) == 2)(self.stack.status(task)))

    def test_3_cancel_from_the_task_page_reaches_the_running_handler(self):
        task = self.stack.jobq("submit", "jobq.sleep", "--payload", '{"seconds": 120}').stdout.strip()
        wait_until("the task to run", lambda: self.stack.status(task)["state"] == "RUNNING")
        self.open(f"/tasks/{task}")
        self.screenshot("task-running")
        self.click_action("cancel-task")
        wait_until("the task to end CANCELLED", lambda: self.stack.status(task)["state"] == "CANCELLED", timeout=15)

    def click_action(self, name):
        """Presses the page's button for an action (a POST form to /actions/NAME), and the
        confirmation's if the page asks for one."""
        self.driver.find_element(By.CSS_SELECTOR, f'form[action$="/actions/{name}"] button[type="submit"]').click()
        confirm = self.driver.find_elements(By.CSS_SELECTOR, f'form[action$="/actions/{name}"] input[name="confirm"]')
        if confirm:
            self.driver.find_element(By.CSS_SELECTOR, f'form[action$="/actions/{name}"] button[type="submit"]').click()

    def test_4_paging_with_100000_tasks(self):
        # Two runs of 50,000 (the most one workflow file may hold), in a queue nobody serves.
        n = 50_000
        document = {"workflow": "big", "defaults": {"queue": "nobody-serves-this"},
                    "tasks": [{"id": f"t{i:06d}", "handler": "jobq.noop"} for i in range(n)]}
        started = time.monotonic()
        run = self.stack.submit_file(json.dumps(document), suffix=".json")
        self.stack.submit_file(json.dumps(document), suffix=".json")
        print(f"\nsubmitted {2 * n} tasks in {time.monotonic() - started:.1f}s")
        seen = []
        started = time.monotonic()
        self.open(f"/runs/{run}")
        print(f"page 1: {(time.monotonic() - started) * 1000:.0f} ms")
        self.screenshot("run-100000-tasks")
        for page in range(1, 5):
            rows = [r.get_attribute("data-task") for r in
                    self.driver.find_elements(By.CSS_SELECTOR, "table tr[data-task]")]
            self.assertTrue(rows, f"page {page} lists tasks")
            self.assertFalse(set(seen) & set(rows), f"page {page} repeats a task of an earlier page")
            seen += rows
            started = time.monotonic()
            self.driver.find_element(By.CSS_SELECTOR, 'a[rel="next"]').click()
            print(f"page {page + 1}: {(time.monotonic() - started) * 1000:.0f} ms")
        # in submission order, with none skipped between pages
        self.assertEqual(seen, [f"{run}/t{i:06d}" for i in range(len(seen))])

    def test_5_every_page_renders_and_is_kept_as_a_screenshot(self):
        self.stack.jobq("schedule", "add", "nightly", "--cron", "0 2 * * *", "jobq.noop")
        self.stack.jobq("submit", "jobq.sleep", "--payload", '{"seconds": 0.1}', "--concurrency-key", "tenant-7", "--concurrency-limit", "2")
        for path, name, heading in (("/", "overview", "Overview"), ("/runs", "runs", "Runs"), ("/queues", "queues", "Queues"),
                                    ("/workers", "workers", "Workers"), ("/schedules", "schedules", "Schedules"),
                                    ("/limits", "limits", "Limits")):
            self.open(path)
            self.assertIn(heading, self.driver.find_element(By.TAG_NAME, "h1").text, path)
            self.screenshot(name)
        self.open("/workers")
        self.assertIn("browser-worker-1", self.driver.page_source, "the workers page lists the running workers")
        self.open("/schedules")
        self.assertIn("nightly", self.driver.page_source)

    def test_6_a_public_listen_address_without_auth_is_refused(self):
        result = subprocess.run([f"{BIN}/jobq", "dashboard", "--listen", f"0.0.0.0:{free_port()}", "--json"],
                                capture_output=True, text=True, env=self.stack.env, timeout=30)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("auth", result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
