// Debian's real chromium, headless, driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
// commands on fd 3, answers on fd 4, NUL-separated JSON), so no npm package and no browser download is
// involved. Loads one file, collects console errors, exceptions, CSP reports and every request that is
// not the file itself, takes a screenshot and prints to PDF. A test helper, not product code.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';

export const CHROMIUM = '/usr/bin/chromium';

export interface PageVisit {
  /** Console errors and warnings, uncaught exceptions, error log entries (CSP violations land here). */
  errors: string[];
  /** Requests to anything but the file itself. */
  requests: string[];
  /** What `evaluate` returned. */
  value: unknown;
  screenshot: Buffer;
  pdf: Buffer;
}

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

class Pipe {
  private nextId = 1;
  private buffer = '';
  private readonly pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private readonly listeners: ((message: Message) => void)[] = [];

  constructor(
    private readonly input: Writable,
    output: Readable,
  ) {
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\0')) >= 0) {
        const message = JSON.parse(this.buffer.slice(0, end)) as Message;
        this.buffer = this.buffer.slice(end + 1);
        if (message.id !== undefined) {
          const waiter = this.pending.get(message.id);
          this.pending.delete(message.id);
          if (message.error) waiter?.reject(new Error(message.error.message));
          else waiter?.resolve(message.result ?? {});
        } else for (const listener of this.listeners) listener(message);
      }
    });
  }

  on(listener: (message: Message) => void): void {
    this.listeners.push(listener);
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    this.input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  waitFor(method: string, sessionId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${method} within ${timeoutMs} ms`)), timeoutMs);
      this.on((m) => {
        if (m.method === method && m.sessionId === sessionId) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }
}

function launch(profile: string): ChildProcess {
  return spawn(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-extensions',
      '--mute-audio',
      `--user-data-dir=${profile}`,
      '--remote-debugging-pipe',
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
  );
}

/** Load `file` in headless chromium and report what happened; the browser is always closed (by pid). */
export async function visitInChromium(file: string, expression: string, options: { width?: number; timeoutMs?: number } = {}): Promise<PageVisit> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (sh scripts/setup.sh --test does)`);
  const profile = await mkdtemp(join(tmpdir(), 'orchestrate-chromium-'));
  const child = launch(profile);
  const killTimer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  try {
    const pipe = new Pipe(child.stdio[3] as Writable, child.stdio[4] as Readable);
    const url = pathToFileURL(file).href;
    const errors: string[] = [];
    const requests: string[] = [];
    pipe.on((m) => {
      const p = m.params ?? {};
      if (m.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'warning' || p.type === 'assert'))
        errors.push(`console.${p.type}: ${JSON.stringify(p.args)}`);
      if (m.method === 'Runtime.exceptionThrown') errors.push(`exception: ${JSON.stringify(p.exceptionDetails)}`);
      if (m.method === 'Log.entryAdded') {
        const entry = p.entry as { level?: string; text?: string; source?: string };
        if (entry.level === 'error' || entry.level === 'warning') errors.push(`log ${entry.source ?? ''}: ${entry.text ?? ''}`);
      }
      if (m.method === 'Network.requestWillBeSent') {
        const requestUrl = (p.request as { url?: string }).url ?? '';
        if (requestUrl !== url && !requestUrl.startsWith('data:')) requests.push(requestUrl);
      }
    });
    const { targetId } = (await pipe.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await pipe.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    for (const domain of ['Runtime', 'Log', 'Page', 'Network']) await pipe.send(`${domain}.enable`, {}, sessionId);
    await pipe.send(
      'Emulation.setDeviceMetricsOverride',
      { width: options.width ?? 1100, height: 900, deviceScaleFactor: 1, mobile: false },
      sessionId,
    );
    const loaded = pipe.waitFor('Page.loadEventFired', sessionId, 30_000);
    await pipe.send('Page.navigate', { url }, sessionId);
    await loaded;
    await new Promise((resolve) => setTimeout(resolve, 300)); // late console messages
    const evaluated = (await pipe.send('Runtime.evaluate', { expression, returnByValue: true }, sessionId)) as { result: { value?: unknown } };
    const shot = (await pipe.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true }, sessionId)) as { data: string };
    const pdf = (await pipe.send('Page.printToPDF', { printBackground: true, preferCSSPageSize: true }, sessionId)) as { data: string };
    await pipe.send('Browser.close').catch(() => undefined);
    return { errors, requests, value: evaluated.result.value, screenshot: Buffer.from(shot.data, 'base64'), pdf: Buffer.from(pdf.data, 'base64') };
  } finally {
    clearTimeout(killTimer);
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
          resolve(undefined);
        }, 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
    await rm(profile, { recursive: true, force: true });
  }
}

/** Width and height of a PNG (its IHDR chunk). */
export function pngSize(png: Buffer): { width: number; height: number } {
  if (png.subarray(1, 4).toString('latin1') !== 'PNG') throw new Error('not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
