// The web page in a real browser, as a supervisor uses it: sign in, upload a
// gold and a trainee video, name the steps over the gold video, score, open
// the result, choose a deviation and see both videos move to its time codes,
// fetch the report, read the history. Against a real `sopilot serve` started
// here; Debian's chromium driven by playwright-core (tools/web-test).
//
//   node ui_browser_test.mjs SOPILOT_BINARY ARTIFACT_DIR
//
// Exit 0: passed; 1: failed (the message says where); 77: skipped because
// chromium or playwright-core is not installed (scripts/install-web-test.sh).
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [binary, artifacts] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const chromiumPath = process.env.SOPILOT_CHROMIUM || '/usr/bin/chromium';

function skip(why) {
  console.log(`SKIPPED: ${why}`);
  process.exit(77);
}
if (!binary) {
  console.error('usage: node ui_browser_test.mjs SOPILOT_BINARY ARTIFACT_DIR');
  process.exit(2);
}
if (!fs.existsSync(chromiumPath)) skip(`no browser at ${chromiumPath} (Debian package chromium; scripts/install-web-test.sh)`);
let chromium;
try {
  const require = createRequire(path.join(repo, 'tools/web-test/package.json'));
  ({ chromium } = require('playwright-core'));
} catch (e) {
  skip(`playwright-core is not installed in tools/web-test (scripts/install-web-test.sh): ${e.message}`);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sopilot-ui-'));
fs.mkdirSync(artifacts, { recursive: true });
const scenes = ['testsrc2', 'mandelbrot', 'smptehdbars', 'rgbtestsrc'];
function procedure(file, order) {
  const inputs = [];
  let filter = '';
  order.forEach((s, i) => {
    inputs.push('-t', '4', '-f', 'lavfi', '-i', scenes[s]);
    filter += `[${i}:v]scale=320:180,setsar=1,fps=12,format=yuv420p[v${i}];`;
  });
  filter += order.map((_, i) => `[v${i}]`).join('') + `concat=n=${order.length}:v=1:a=0[out]`;
  execFileSync('ffmpeg', ['-y', '-loglevel', 'error', ...inputs, '-filter_complex', filter, '-map', '[out]',
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', file]);
  return file;
}
const gold = procedure(path.join(work, 'gold.mp4'), [0, 1, 2, 3]);
const trainee = procedure(path.join(work, 'trainee-swapped.mp4'), [0, 2, 1, 3]);

const OPERATOR = 'operator-token-ui';
const server = spawn(binary, ['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', path.join(work, 'data')], {
  env: { ...process.env, SOPILOT_API_ROLE_TOKENS: `viewer:viewer-token-ui,operator:${OPERATOR},admin:admin-token-ui` },
  stdio: ['ignore', 'ignore', 'pipe'],
});
let serverLog = '';
const base = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`sopilot serve did not start:\n${serverLog}`)), 120000);
  server.stderr.on('data', (d) => {
    serverLog += d;
    const m = serverLog.match(/web page: (http:\/\/[^\s]+)\/ui/);
    if (m) { clearTimeout(timer); resolve(m[1]); }
  });
  server.on('exit', (code) => reject(new Error(`sopilot serve exited (${code}):\n${serverLog}`)));
});

let step = 'start';
async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}
function expect(ok, what) {
  if (!ok) throw new Error(`${step}: ${what}`);
}

const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
let failed = null;
try {
  const page = await browser.newPage({ viewport: { width: 1024, height: 1366 } });  // a tablet, upright
  page.setDefaultTimeout(120000);
  page.on('pageerror', (e) => { failed = failed || new Error(`page error: ${e.message}`); });

  step = 'sign in';
  await page.goto(`${base}/ui`);
  await page.waitForSelector('#login');
  await page.fill('#token', 'wrong-token');
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#status .msg.error');
  await page.fill('#token', OPERATOR);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('h1:text("Tasks")');
  await shot(page, '01-tasks');

  step = 'upload the gold video';
  async function upload(file, role, operator) {
    await page.setInputFiles('#upload-file', file);
    await page.fill('#upload-task', 'ui-demo');
    await page.selectOption('#upload-role', role);
    if (operator) await page.fill('#upload-operator', operator);
    const before = await page.locator('#jobs li[data-status=completed]').count();
    await page.click('#upload button[type=submit]');
    await page.waitForFunction((n) => document.querySelectorAll('#jobs li[data-status=completed]').length > n, before);
  }
  await upload(gold, 'gold');
  step = 'upload the trainee video';
  await upload(trainee, 'trainee', 'op-ui');
  await shot(page, '02-uploaded');

  step = 'name the steps over the gold video';
  await page.goto(`${base}/ui#/task/ui-demo/sop`);
  await page.waitForSelector('tr.step');
  const rows = page.locator('tr.step');
  expect(await rows.count() === 4, `the draft has ${await rows.count()} steps, not 4`);
  const names = ['REMOVE', 'CLEAN', 'SWAP', 'CHECK'];
  for (let i = 0; i < 4; ++i) await rows.nth(i).locator('.step-name').fill(names[i]);
  // Scrub the gold video to CLEAN's start and take it with "now": the
  // start stays where the video shows it (other steps keep their times).
  // A time to the hundredth, as the service gives step times (a "now" that
  // rounded to a tenth put a start taken at a found boundary before the
  // previous step's end, and the save was refused).
  const cleanStart = Number(await rows.nth(1).locator('.step-start').inputValue()) + 0.03;
  await rows.nth(1).locator('.step-start').fill('0');
  await page.waitForFunction(() => document.querySelector('#sop-video').readyState >= 1);
  await page.evaluate((t) => { document.querySelector('#sop-video').currentTime = t; }, cleanStart);
  await page.waitForFunction((t) => Math.abs(document.querySelector('#sop-video').currentTime - t) < 0.05, cleanStart);
  await rows.nth(1).locator('.set-start').click();
  const taken = Number(await rows.nth(1).locator('.step-start').inputValue());
  expect(Math.abs(taken - cleanStart) < 0.006, `the "now" button took ${taken}, not the video's ${cleanStart}`);
  await rows.nth(1).locator('.step-critical').check();
  await page.click('#save-sop');
  await page.waitForSelector('#sop-version:text("Version 1")');
  await shot(page, '03-sop-saved');

  step = 'place the named steps in the gold video';
  await page.click('#place-steps');
  await page.waitForSelector('#sop-version:text("Version 2")');
  const placed = page.locator('tr.step');
  expect(await placed.count() === 4, `${await placed.count()} steps after placing, not 4`);
  for (let i = 0; i < 4; ++i) {
    const n = await placed.nth(i).locator('.step-name').inputValue();
    expect(n === names[i], `step ${i + 1} is named "${n}" after placing, not ${names[i]}`);
  }
  expect(await placed.nth(1).locator('.step-critical').isChecked(), 'CLEAN is no longer critical after placing');
  const placedStart = Number(await placed.nth(1).locator('.step-start').inputValue());
  expect(Math.abs(placedStart - cleanStart) <= 1, `CLEAN placed at ${placedStart} s, the gold shows it at ${cleanStart} s`);
  await shot(page, '03b-steps-placed');

  step = 'score the trainee';
  await page.goto(`${base}/ui#/task/ui-demo`);
  await page.waitForSelector('#videos button.score');
  await page.click('#videos button.score');
  await page.waitForSelector('#jobs a:text("open the result")');
  await page.click('#jobs a:text("open the result")');
  await page.waitForSelector('#verdict');
  const verdict = await page.textContent('#verdict');
  expect(/needs_review|fail/.test(verdict), `verdict "${verdict}" for a swapped trainee`);
  await shot(page, '04-score');

  step = 'play a deviation from its time codes';
  const deviation = page.locator('button.deviation').first();
  expect(await deviation.count() === 1, 'no deviation listed');
  expect((await deviation.textContent()).includes('order_swap'), 'the deviation is not the swap');
  const goldAt = Number(await deviation.getAttribute('data-gold'));
  const traineeAt = Number(await deviation.getAttribute('data-trainee'));
  await page.waitForFunction(() => ['#gold-video', '#trainee-video'].every((s) => document.querySelector(s).readyState >= 1));
  await deviation.click();
  await page.waitForFunction(([g, t]) => {
    const gv = document.querySelector('#gold-video'), tv = document.querySelector('#trainee-video');
    return gv.currentTime >= g - 0.3 && gv.currentTime < g + 2 && tv.currentTime >= t - 0.3 && tv.currentTime < t + 2;
  }, [goldAt, traineeAt]);
  await shot(page, '05-deviation-playing');

  step = 'open the report';
  const pdfHead = await page.evaluate(async ([token]) => {
    const id = location.hash.split('/')[2];
    const r = await fetch(`/score/${id}/report.pdf`, { headers: { Authorization: `Bearer ${token}` } });
    return new TextDecoder().decode((await r.arrayBuffer()).slice(0, 5));
  }, [OPERATOR]);
  expect(pdfHead === '%PDF-', `the report is not a PDF (${pdfHead})`);
  const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('#report-html')]);
  await popup.waitForLoadState();
  expect((await popup.content()).includes('CLEAN'), 'the HTML report does not name the steps');
  await shot(popup, '06-report');
  await popup.close();

  step = 'history and trend';
  await page.goto(`${base}/ui#/history?task_id=ui-demo`);
  await page.waitForSelector('#history-rows tr');
  expect(await page.locator('#history-rows tr').count() === 1, 'the history does not list the one score');
  expect(await page.locator('#trend polyline').count() === 1, 'no trend line for the operator');
  await shot(page, '07-history');

  step = 'keyboard';
  // A new page puts the focus at its top; Tab then reaches its first control,
  // and Enter on a task link opens it.
  await page.goto(`${base}/ui#/tasks`);
  await page.waitForSelector('h1:text("Tasks")');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.textContent);
  expect(focused === 'ui-demo', `Tab does not reach the first task link (it is on "${focused}")`);
  await page.keyboard.press('Enter');
  await page.waitForSelector('h1:text("Task ui-demo")');

  step = 'time codes';
  // The page prints times as the CLI and the reports do; tenths that round
  // up to a whole minute carry into it.
  const codes = await page.evaluate(() => [clock(7.5), clock(59.97), clock(119.96), clock(-0.02), clock(null)]);
  expect(JSON.stringify(codes) === JSON.stringify(['0:07.5', '1:00.0', '2:00.0', '0:00.0', '-']),
         `time codes read ${JSON.stringify(codes)}`);
} catch (e) {
  failed = failed || e;
} finally {
  await browser.close();
  server.kill('SIGTERM');
}
if (failed) {
  console.error(`FAILED: ${failed.message}\nscreenshots: ${artifacts}\nserver log:\n${serverLog}`);
  process.exit(1);
}
fs.rmSync(work, { recursive: true, force: true });
console.log(`PASSED; screenshots in ${artifacts}`);
