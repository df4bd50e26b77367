// What the SDK scripts share: their settings, one JSON line per scenario on stdout, and small checks.
//
// Settings come from --name value arguments or from the environment (SB_NAME):
//   --base-url    SB_BASE_URL     the gateway, e.g. http://127.0.0.1:8080 (no /v1)
//   --base-url-2  SB_BASE_URL_2   a second gateway of the same cluster (previous_response_id across nodes)
//   --api-key     SB_API_KEY      a key the gateway accepts (any text where it has none)
//   --model       SB_MODEL        the model to ask
//   --scenarios   SB_SCENARIOS    comma-separated names to run; all but kill-stream when absent
//   --max-tokens  SB_MAX_TOKENS   the answer limit most scenarios ask for (default 16); 0 = none where the API
//                                 allows none (the model's answer then ends by itself)
//   --long-tokens SB_LONG_TOKENS  the answer limit of the kill-stream scenarios (default 150); 0 = none likewise
//
// Each scenario prints {"suite","scenario","ok":true,...what it saw} or {"ok":false,"error":{...}}; a scenario that
// wants the test to act mid-way prints a line with "event" first (kill-stream prints {"event":"serving","worker"}).
// The process exits 1 when any scenario failed, with each failure's stack on stderr.

export function settings(argv = process.argv.slice(2)) {
  const given = {};
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) {
      throw new Error(`unexpected argument ${argv[i]}: use --name value`);
    }
    given[argv[i].slice(2)] = argv[++i];
  }
  const get = (name, fallback) => {
    const value = given[name] ?? process.env['SB_' + name.toUpperCase().replaceAll('-', '_')];
    if (value === undefined || value === '') {
      if (fallback === undefined) {
        throw new Error(`missing --${name} (or SB_${name.toUpperCase().replaceAll('-', '_')})`);
      }
      return fallback;
    }
    return value;
  };
  return {
    baseUrl: get('base-url').replace(/\/+$/, ''),
    baseUrl2: get('base-url-2', '').replace(/\/+$/, ''),
    apiKey: get('api-key', 'sk-none'),
    model: get('model'),
    scenarios: get('scenarios', '').split(',').map((s) => s.trim()).filter(Boolean),
    maxTokens: Number(get('max-tokens', '16')),
    longTokens: Number(get('long-tokens', '150')),
  };
}

export function emit(line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

export function check(condition, message, seen) {
  if (!condition) {
    throw new Error(seen === undefined ? message : `${message}; saw ${JSON.stringify(seen)}`);
  }
}

/** What an SDK error says: its class, status and the error body the gateway sent. */
export function describeError(err) {
  return {
    class: err?.constructor?.name,
    status: err?.status,
    message: String(err?.message ?? err).slice(0, 2000),
    body: err?.error,
  };
}

/** Runs the call, which must fail with the SDK error class given; returns that error. */
export async function expectError(errorClass, call) {
  let result;
  try {
    result = await call();
  } catch (err) {
    if (err instanceof errorClass) {
      return err;
    }
    throw new Error(`expected ${errorClass.name}, got ${err?.constructor?.name}: ${err?.message}`, { cause: err });
  }
  throw new Error(`expected ${errorClass.name}, but the call succeeded: ${JSON.stringify(result)?.slice(0, 500)}`);
}

/** Runs the selected scenarios in order, each on its own; exits 1 when any failed. */
export async function run(suite, scenarios, selected, defaults) {
  const names = selected.length > 0 ? selected : defaults;
  const unknown = names.filter((name) => !(name in scenarios));
  if (unknown.length > 0) {
    throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}`);
  }
  let failed = 0;
  for (const name of names) {
    const started = Date.now();
    try {
      const seen = await scenarios[name]();
      emit({ suite, scenario: name, ok: true, ms: Date.now() - started, ...seen });
    } catch (err) {
      failed++;
      emit({ suite, scenario: name, ok: false, ms: Date.now() - started, error: describeError(err) });
      process.stderr.write(`${suite} ${name} failed: ${err?.stack ?? err}\n`);
      if (err?.cause) {
        process.stderr.write(`  caused by: ${err.cause?.stack ?? err.cause}\n`);
      }
    }
  }
  process.exitCode = failed > 0 ? 1 : 0;
}
