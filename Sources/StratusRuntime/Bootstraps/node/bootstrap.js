'use strict';
// Stratus runtime bootstrap for Node.js handlers.
//
// A minimal client of the AWS Lambda Runtime API (2018-06-01), standard library
// only. Run as `node bootstrap.js` with cwd = the function directory and the
// usual Lambda environment (AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT...).
//
// Behaviour follows the Lambda Node.js runtime where it matters to callers:
// error types and messages, the context object, async and callback handlers,
// callbackWaitsForEmptyEventLoop, and uncaught exceptions during an invocation.

const http = require('http');
const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

const API_PREFIX = '/2018-06-01';

function die(message) {
  if (message) process.stderr.write(message + '\n');
  process.exit(1);
}

// ---------------------------------------------------------------------------
// Runtime API client: one persistent HTTP/1.1 keep-alive connection

const address = process.env.AWS_LAMBDA_RUNTIME_API;
if (!address) die('stratus bootstrap: AWS_LAMBDA_RUNTIME_API is not set');
const colon = address.lastIndexOf(':');
let apiHost = colon > 0 ? address.slice(0, colon) : '';
const apiPort = Number(address.slice(colon + 1));
if (apiHost.startsWith('[') && apiHost.endsWith(']')) apiHost = apiHost.slice(1, -1);
if (!apiHost || !Number.isInteger(apiPort) || apiPort <= 0) {
  die(`stratus bootstrap: bad AWS_LAMBDA_RUNTIME_API '${address}'`);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function requestOnce(method, urlPath, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: apiHost, port: apiPort, method, path: API_PREFIX + urlPath, agent, headers },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('aborted', () => reject(new Error('response aborted')));
        res.on('error', reject);
      });
    req.on('error', reject);
    req.end(body);
  });
}

// A failed request is retried once (the peer may have closed an idle
// keep-alive socket); a second failure means the host is gone: exit, never spin.
async function request(method, urlPath, body, headers) {
  try {
    return await requestOnce(method, urlPath, body, headers);
  } catch (_) {
    try {
      return await requestOnce(method, urlPath, body, headers);
    } catch (_) {
      return die();
    }
  }
}

function headerValue(value) {
  return String(value).replace(/[^\x20-\x7e]/g, '?');
}

async function post(urlPath, payload, errorType) {
  const headers = {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(payload),
  };
  if (errorType !== undefined) headers['Lambda-Runtime-Function-Error-Type'] = headerValue(errorType);
  const res = await request('POST', urlPath, payload, headers);
  if (res.status < 200 || res.status >= 300) {
    process.stderr.write(`stratus bootstrap: POST ${urlPath} returned HTTP ${res.status}: ` +
      `${res.body.toString('utf8').slice(0, 500)}\n`);
  }
}

// ---------------------------------------------------------------------------
// errors

class RuntimeError extends Error {
  constructor(name, message) {
    super(message);
    this.name = name;
    this.stack = `${name}: ${message}`; // raised by the bootstrap: its frames are noise
  }
}

// Stack lines after the "Name: message" header, trimmed, cut at the first
// frame of this bootstrap (what follows is runtime plumbing).
function stackLines(err) {
  const stack = typeof err.stack === 'string' ? err.stack : '';
  let rest = stack;
  const header = `${err.name}: ${err.message}`;
  if (stack.startsWith(header)) rest = stack.slice(header.length);
  else if (stack.startsWith(String(err.name))) rest = stack.split('\n').slice(1).join('\n');
  const lines = rest.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const own = lines.findIndex((line) => line.includes(__filename));
  return own >= 0 ? lines.slice(0, own) : lines;
}

// What a caller of Invoke gets for an error, as Lambda's Node.js runtime reports it: the error's type and
// message, and `trace`, its whole stack line by line (the first line is "Type: message").
function errorPayload(d) {
  return JSON.stringify({ errorType: d.errorType, errorMessage: d.errorMessage, trace: d.rawStack });
}

// -> { errorType, errorMessage, stackTrace, rawStack }
function describeError(err) {
  try {
    const isError = err instanceof Error ||
      (err !== null && typeof err === 'object' && typeof err.name === 'string' &&
        typeof err.message === 'string');
    if (isError) {
      return {
        errorType: String(err.name || 'Error'),
        errorMessage: String(err.message === undefined ? '' : err.message),
        stackTrace: stackLines(err),
        rawStack: typeof err.stack === 'string' ? err.stack.split('\n') : [],
      };
    }
    return { errorType: typeof err, errorMessage: String(err), stackTrace: [], rawStack: [] };
  } catch (_) {
    return {
      errorType: 'handled',
      errorMessage: 'error value could not be described (its name, message or stack threw)',
      stackTrace: [],
      rawStack: [],
    };
  }
}

function logError(stream, requestId, label, d) {
  const line = JSON.stringify({ errorType: d.errorType, errorMessage: d.errorMessage, stack: d.rawStack });
  stream.write(`${new Date().toISOString()}\t${requestId}\tERROR\t${label} \t${line}\n`);
}

// ---------------------------------------------------------------------------
// init

function fileExists(p) {
  try {
    return fs.statSync(p).isFile();
  } catch (_) {
    return false;
  }
}

async function loadModule(base) {
  for (const ext of ['.js', '.mjs', '.cjs']) {
    const file = base + ext;
    if (!fileExists(file)) continue;
    if (ext === '.mjs') return import(pathToFileURL(file).href);
    try {
      return require(file);
    } catch (e) {
      // a .js file in a "type": "module" package
      if (e && e.code === 'ERR_REQUIRE_ESM') return import(pathToFileURL(file).href);
      throw e;
    }
  }
  return undefined;
}

async function loadHandler() {
  const spec = process.env._HANDLER || '';
  const dot = spec.lastIndexOf('.');
  if (dot <= 0 || dot === spec.length - 1) throw new RuntimeError('Runtime.MalformedHandlerName', 'Bad handler');
  const moduleName = spec.slice(0, dot);
  const functionName = spec.slice(dot + 1);
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();

  let mod;
  try {
    mod = await loadModule(path.resolve(root, moduleName));
  } catch (e) {
    if (e instanceof SyntaxError || (e && e.name === 'SyntaxError')) {
      const wrapped = new RuntimeError('Runtime.UserCodeSyntaxError', String(e));
      wrapped.stack = e.stack;
      throw wrapped;
    }
    if (e && (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND')) {
      const wrapped = new RuntimeError('Runtime.ImportModuleError', String(e));
      wrapped.stack = `Runtime.ImportModuleError: ${e.stack}`;
      throw wrapped;
    }
    throw e; // anything else thrown at load time keeps its own type
  }
  if (mod === undefined) {
    throw new RuntimeError('Runtime.ImportModuleError', `Error: Cannot find module '${moduleName}'`);
  }
  const handler = mod[functionName];
  if (handler === undefined) {
    throw new RuntimeError('Runtime.HandlerNotFound', `${spec} is undefined or not exported`);
  }
  if (typeof handler !== 'function') {
    throw new RuntimeError('Runtime.HandlerNotFound', `${spec} is not a function`);
  }
  return handler;
}

// ---------------------------------------------------------------------------
// invocations

let initDone = false;
let current = null; // { requestId, posted } of the invocation in flight
let onEmptyEventLoop = null; // run once when the event loop drains ('beforeExit')

process.on('beforeExit', () => {
  const fn = onEmptyEventLoop;
  onEmptyEventLoop = null;
  if (fn) fn();
});

function parseJsonHeader(value, name) {
  if (value === undefined || value === '') return undefined;
  try {
    return JSON.parse(value);
  } catch (e) {
    throw new RuntimeError('Runtime.LambdaContextUnmarshalError', `Unable to parse ${name} JSON: ${e.message}`);
  }
}

function postInvocationError(inv, err) {
  const d = describeError(err);
  logError(process.stdout, inv.requestId, 'Invoke Error', d);
  return post(`/runtime/invocation/${inv.requestId}/error`, errorPayload(d), d.errorType);
}

function postInvocationResult(inv, result) {
  let payload;
  try {
    payload = JSON.stringify(result);
    if (payload === undefined) payload = 'null';
  } catch (e) {
    return postInvocationError(inv, new RuntimeError('Runtime.MarshalError',
      `Unable to stringify response body: ${e && e.message}`));
  }
  return post(`/runtime/invocation/${inv.requestId}/response`, payload);
}

// Resolves once the invocation's response or error has been posted.
function invoke(handler, next) {
  return new Promise((done) => {
    const h = next.headers; // lower-cased by node
    const requestId = h['lambda-runtime-aws-request-id'];
    if (!requestId) die('stratus bootstrap: invocation without Lambda-Runtime-Aws-Request-Id');
    const inv = { requestId, posted: false };
    current = inv;

    const finish = (err, result) => {
      if (inv.posted) return;
      inv.posted = true;
      onEmptyEventLoop = null;
      const sent = err !== undefined && err !== null
        ? postInvocationError(inv, err)
        : postInvocationResult(inv, result);
      sent.then(() => {
        if (current === inv) current = null;
        done();
      });
    };

    if (h['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = h['lambda-runtime-trace-id'];
    else delete process.env._X_AMZN_TRACE_ID;
    const deadline = Number(h['lambda-runtime-deadline-ms']) || 0;

    let event;
    let clientContext;
    let identity;
    try {
      try {
        event = JSON.parse(next.body.toString('utf8'));
      } catch (e) {
        throw new RuntimeError('Runtime.UnmarshalError', `Unable to unmarshal input: ${e.message}`);
      }
      clientContext = parseJsonHeader(h['lambda-runtime-client-context'], 'Client Context');
      identity = parseJsonHeader(h['lambda-runtime-cognito-identity'], 'Cognito Identity');
    } catch (e) {
      finish(e);
      return;
    }

    // The first completion (callback, promise, context.done/succeed/fail, throw)
    // fixes the outcome. A callback with callbackWaitsForEmptyEventLoop = true
    // is posted only once the event loop drains, as on Lambda.
    let decided = false;
    const complete = (err, result, waitForEmptyLoop) => {
      if (decided) return;
      decided = true;
      if (waitForEmptyLoop) onEmptyEventLoop = () => finish(err, result);
      else finish(err, result);
    };

    const context = {
      awsRequestId: requestId,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      invokedFunctionArn: h['lambda-runtime-invoked-function-arn'],
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      identity,
      clientContext,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis() {
        return Math.max(0, deadline - Date.now());
      },
      done(err, result) {
        context.callbackWaitsForEmptyEventLoop = false;
        complete(err, result, false);
      },
      succeed(result) {
        context.done(null, result);
      },
      fail(err) {
        context.done(err === undefined || err === null ? 'handled' : err);
      },
    };
    const callback = (err, result) => complete(err, result, context.callbackWaitsForEmptyEventLoop);

    // Neither callback nor promise: respond null once the event loop drains.
    onEmptyEventLoop = () => complete(null, undefined, false);

    let returned;
    try {
      returned = handler(event, context, callback);
    } catch (e) {
      complete(e === undefined || e === null ? 'handled' : e, undefined, false);
      return;
    }
    if (returned !== null && typeof returned === 'object' && typeof returned.then === 'function') {
      Promise.resolve(returned).then(
        (result) => complete(null, result, false),
        (err) => complete(err === undefined || err === null ? 'handled' : err, undefined, false));
    }
  });
}

// Uncaught errors: fail the invocation in flight (or init), then exit like Lambda (129).
function fatal(err, label, rejection) {
  let d = describeError(err);
  if (rejection) {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    d = { ...d, errorType: 'Runtime.UnhandledPromiseRejection', errorMessage: reason };
  }
  const inv = current;
  logError(process.stderr, inv ? inv.requestId : 'undefined', label, d);
  let sent = Promise.resolve();
  if (inv && !inv.posted) {
    inv.posted = true;
    onEmptyEventLoop = null;
    sent = post(`/runtime/invocation/${inv.requestId}/error`, errorPayload(d), d.errorType);
  } else if (!initDone) {
    sent = post('/runtime/init/error', errorPayload(d), d.errorType);
  }
  sent.then(() => process.exit(129), () => process.exit(129));
}

process.on('uncaughtException', (err) => fatal(err, 'Uncaught Exception', false));
process.on('unhandledRejection', (reason) => fatal(reason, 'Unhandled Promise Rejection', true));

async function main() {
  // What Lambda's Node.js runtimes set (libraries read it to know they run in Lambda); a function may set its own.
  if (!process.env.AWS_EXECUTION_ENV) {
    process.env.AWS_EXECUTION_ENV = `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`;
  }
  let handler;
  try {
    handler = await loadHandler();
  } catch (err) {
    const d = describeError(err);
    logError(process.stderr, 'undefined', 'Uncaught Exception', d);
    await post('/runtime/init/error', errorPayload(d), d.errorType);
    process.exit(1);
  }
  initDone = true;

  for (;;) {
    const next = await request('GET', '/runtime/invocation/next');
    if (next.status !== 200) die(`stratus bootstrap: GET /runtime/invocation/next returned HTTP ${next.status}`);
    await invoke(handler, next);
  }
}

main();
