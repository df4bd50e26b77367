// The official `openai` npm SDK against a Switchboard gateway: the Responses API (and a chat-completions sanity
// check). Settings and output: see common.mjs. Run: node responses.mjs --base-url http://127.0.0.1:8080 --model mock-llm
import OpenAI, { AuthenticationError, NotFoundError } from 'openai';
import { check, emit, expectError, run, settings } from './common.mjs';

const SUITE = 'openai-responses';
const config = settings();

function client(baseUrl = config.baseUrl, apiKey = config.apiKey) {
  // No retries: a request that fails must show here, not be hidden by a second try.
  return new OpenAI({ baseURL: baseUrl + '/v1', apiKey, maxRetries: 0, timeout: 120_000 });
}

const first = client();

const second = config.baseUrl2 ? client(config.baseUrl2) : first;

/** max_output_tokens where a limit is set; none (the answer ends by itself) for 0. */
const limit = (tokens = config.maxTokens) => (tokens > 0 ? { max_output_tokens: tokens } : {});

/** A response's text: the SDK's output_text where it set one, else its message items' output_text parts. */
function textOf(response) {
  if (typeof response.output_text === 'string') {
    return response.output_text;
  }
  return (response.output ?? []).filter((item) => item.type === 'message')
    .flatMap((item) => item.content ?? []).filter((part) => part.type === 'output_text')
    .map((part) => part.text).join('');
}

/** A finished response as the API defines one: completed, or incomplete because it reached max_output_tokens. */
function checkFinished(response, where) {
  check(response.object === 'response', `${where}: object is 'response'`, response.object);
  check(typeof response.id === 'string' && response.id.length > 0, `${where}: has an id`, response.id);
  check(response.status === 'completed' || (response.status === 'incomplete'
      && response.incomplete_details?.reason === 'max_output_tokens'),
  `${where}: status completed (or incomplete at max_output_tokens)`, [response.status, response.incomplete_details]);
  check(response.usage && response.usage.input_tokens > 0 && response.usage.output_tokens > 0,
    `${where}: usage with input and output tokens`, response.usage);
  check(response.usage.total_tokens === response.usage.input_tokens + response.usage.output_tokens,
    `${where}: total_tokens = input + output`, response.usage);
}

/**
 * Reads a Responses stream to its end: every event's type, the text of its output_text deltas, and the final
 * response; checks the order (created first, deltas, then completed or incomplete last), that no error event
 * came, that sequence numbers rise, and that the deltas add up to the final response's text.
 */
async function readResponseStream(stream, onFirstDelta = () => {}) {
  const types = [];
  let text = '';
  let final = null;
  let lastSequence = -1;
  for await (const event of stream) {
    types.push(event.type);
    if (typeof event.sequence_number === 'number') {
      check(event.sequence_number > lastSequence, 'sequence_number rises', [lastSequence, event.sequence_number]);
      lastSequence = event.sequence_number;
    }
    if (event.type === 'response.output_text.delta') {
      if (text === '') {
        onFirstDelta();
      }
      text += event.delta;
    }
    if (event.type === 'response.completed' || event.type === 'response.incomplete') {
      final = event.response;
    }
  }
  check(types[0] === 'response.created', 'the first event is response.created', types.slice(0, 3));
  const terminal = types[types.length - 1];
  check(terminal === 'response.completed' || terminal === 'response.incomplete',
    'the last event is response.completed (or response.incomplete)', types.slice(-3));
  check(!types.includes('error') && !types.includes('response.failed'), 'no error event', types);
  const firstDelta = types.indexOf('response.output_text.delta');
  check(firstDelta > 0, 'at least one response.output_text.delta after response.created', types);
  check(types.lastIndexOf('response.output_text.delta') < types.length - 1, 'the deltas come before the end', types);
  checkFinished(final, 'the final streamed response');
  check(textOf(final) === text, 'the deltas add up to the final response text', { deltas: text, final: textOf(final) });
  const distinct = [...new Set(types)];
  return { types, distinct, terminal, text, final };
}

const scenarios = {
  /** Sanity check of the install/run path: chat completions, whole and streamed, through the SDK. */
  async chat() {
    const request = { model: config.model, messages: [{ role: 'user', content: 'hello' }],
      ...(config.maxTokens > 0 ? { max_tokens: config.maxTokens } : {}) };
    const whole = await first.chat.completions.create(request);
    const content = whole.choices[0]?.message?.content;
    check(typeof content === 'string' && content.length > 0, 'the answer has content', whole.choices);
    check(whole.usage?.completion_tokens > 0, 'usage.completion_tokens > 0', whole.usage);
    const stream = await first.chat.completions.create({ ...request, stream: true,
      stream_options: { include_usage: true } });
    let text = '';
    let finish = null;
    let usage = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    check(text.length > 0 && finish !== null, 'the stream has text and a finish_reason', { text, finish });
    check(usage?.completion_tokens > 0, 'the stream ends with usage', usage);
    return { finishReason: finish, completionTokens: usage.completion_tokens };
  },

  /** responses.create, not streamed: output_text and usage. */
  async create() {
    const response = await first.responses.create({ model: config.model, input: 'Say hello in one sentence.',
      ...limit(), store: false });
    checkFinished(response, 'the response');
    check(response.output_text.length > 0, 'output_text is not empty', response.output);
    check(response.output.some((item) => item.type === 'message' && item.role === 'assistant'),
      'the output has an assistant message', response.output);
    return { status: response.status, outputTokens: response.usage.output_tokens,
      inputTokens: response.usage.input_tokens };
  },

  /** responses.create with stream: true: the event sequence and the text it carries. */
  async stream() {
    const stream = await first.responses.create({ model: config.model, input: 'Tell me about rivers.',
      ...limit(), store: false, stream: true });
    const { types, distinct, terminal, text, final } = await readResponseStream(stream);
    return { terminal, events: types.length, eventTypes: distinct, textChars: text.length, status: final.status };
  },

  /** A function tool: if the model calls it, its output goes back with previous_response_id. */
  async tool() {
    const tools = [{
      type: 'function', name: 'get_weather', description: 'The current weather in a city', strict: true,
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'],
        additionalProperties: false },
    }];
    const asked = await first.responses.create({ model: config.model, tools,
      input: 'What is the weather in Paris right now? Use the get_weather tool.', ...limit() });
    checkFinished(asked, 'the first response');
    const calls = asked.output.filter((item) => item.type === 'function_call');
    if (calls.length === 0) {
      // The model answered without the tool (the mocker never calls tools): recorded, not faked.
      return { toolCalled: false, outputTypes: asked.output.map((item) => item.type),
        text: asked.output_text.slice(0, 80) };
    }
    const call = calls[0];
    check(call.name === 'get_weather' && typeof call.call_id === 'string', 'the call names the tool and a call_id',
      call);
    let argumentsParsed = true;
    try {
      JSON.parse(call.arguments);
    } catch {
      argumentsParsed = false;
    }
    const answered = await first.responses.create({ model: config.model, tools, previous_response_id: asked.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: JSON.stringify({ celsius: 21 }) }],
      ...limit() });
    checkFinished(answered, 'the answer after the tool output');
    check(answered.output.length > 0, 'the answer after the tool output has output', answered);
    return { toolCalled: true, arguments: call.arguments.slice(0, 200), argumentsParsed,
      answerTypes: answered.output.map((item) => item.type) };
  },

  /** previous_response_id across gateways: the first turn is stored via one node, the next asked of another. */
  async 'previous-response'() {
    check(config.baseUrl2, 'this scenario needs --base-url-2 (a second gateway of the cluster)');
    const turn1 = await first.responses.create({ model: config.model, input: 'My name is Ada. Please remember it.',
      ...limit(), store: true });
    checkFinished(turn1, 'the first turn');
    const turn2 = await second.responses.create({ model: config.model, input: 'What is my name?',
      previous_response_id: turn1.id, ...limit() });
    checkFinished(turn2, 'the second turn (other gateway)');
    check(turn2.output_text.length > 0, 'the second turn has an answer', turn2.output);
    check(turn2.previous_response_id === turn1.id, 'the second turn names the first as previous_response_id',
      turn2.previous_response_id);
    const alone = await second.responses.create({ model: config.model, input: 'What is my name?',
      ...limit(), store: false });
    check(turn2.usage.input_tokens > alone.usage.input_tokens,
      'the first turn was part of the second turn\'s prompt (more input tokens than the question alone)',
      { withPrevious: turn2.usage.input_tokens, alone: alone.usage.input_tokens });
    return { firstId: turn1.id, secondId: turn2.id, inputTokensWithPrevious: turn2.usage.input_tokens,
      inputTokensAlone: alone.usage.input_tokens };
  },

  /** responses.retrieve (from the other gateway where there is one) and responses.delete. */
  async 'retrieve-delete'() {
    const created = await first.responses.create({ model: config.model, input: 'Keep this one for later.',
      ...limit(), store: true });
    checkFinished(created, 'the stored response');
    const got = await second.responses.retrieve(created.id);
    check(got.id === created.id && got.status === created.status, 'retrieve returns the stored response',
      { id: got.id, status: got.status });
    check(textOf(got) === created.output_text, 'the retrieved text is the text answered',
      { got: textOf(got), created: created.output_text });
    await second.responses.delete(created.id);
    const gone = await expectError(NotFoundError, () => first.responses.retrieve(created.id));
    return { id: created.id, crossNode: second !== first, afterDelete: gone.status };
  },

  /** responses.retrieve of an id no one stored: NotFoundError. */
  async 'retrieve-unknown'() {
    const id = 'resp_switchboard_no_such_response';
    const err = await expectError(NotFoundError, () => first.responses.retrieve(id));
    // Not the 404 of a path the gateway does not serve: the error is about this response id.
    check(err.error && typeof err.error.message === 'string' && err.error.message.includes(id)
      && err.code !== 'unknown_url', 'the 404 is an OpenAI-shaped error naming the unknown id', err.error);
    return { status: err.status, type: err.type ?? null, code: err.code ?? null };
  },

  /** A key the gateway does not know: AuthenticationError (run only where the gateway has API keys). */
  async 'bad-key'() {
    const stranger = client(config.baseUrl, 'sk-switchboard-not-a-key');
    const err = await expectError(AuthenticationError, () => stranger.responses.create({ model: config.model,
      input: 'hello', ...limit() }));
    return { status: err.status, code: err.code ?? null };
  },

  /**
   * A long stream whose worker the test SIGKILLs: prints {"event":"serving","worker"} after the first delta, then
   * must still read the whole event sequence to the end, with the same text the same request gets answered whole.
   */
  async 'kill-stream'() {
    const request = { model: config.model, input: 'Tell me a long story about a lighthouse keeper.',
      ...limit(config.longTokens), store: false };
    const { data: stream, response } = await first.responses.create({ ...request, stream: true }).withResponse();
    const worker = response.headers.get('x-switchboard-worker');
    check(worker, 'the stream names its worker in x-switchboard-worker');
    const started = Date.now();
    const { types, distinct, terminal, text, final } = await readResponseStream(stream,
      () => emit({ suite: SUITE, scenario: 'kill-stream', event: 'serving', worker }));
    const whole = await first.responses.create(request);
    check(whole.output_text === text, 'the migrated stream\'s text is the text answered whole (nothing lost or repeated)',
      { streamed: text, whole: whole.output_text });
    return { worker, terminal, events: types.length, eventTypes: distinct, outputTokens: final.usage.output_tokens,
      streamMs: Date.now() - started };
  },

  /** kill-stream on chat completions: the same SIGKILL mid-stream, through client.chat.completions.create. */
  async 'chat-kill-stream'() {
    const request = { model: config.model, ...(config.longTokens > 0 ? { max_tokens: config.longTokens } : {}),
      messages: [{ role: 'user', content: 'Tell me a long story about a lighthouse keeper.' }] };
    const { data: stream, response } = await first.chat.completions.create({ ...request, stream: true,
      stream_options: { include_usage: true } }).withResponse();
    const worker = response.headers.get('x-switchboard-worker');
    check(worker, 'the stream names its worker in x-switchboard-worker');
    let text = '';
    let finish = null;
    let usage = null;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta?.content ?? '';
      if (delta && text === '') {
        emit({ suite: SUITE, scenario: 'chat-kill-stream', event: 'serving', worker });
      }
      text += delta;
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    check(finish !== null && usage?.completion_tokens > 0, 'the stream ended with a finish_reason and usage',
      { finish, usage });
    const whole = await first.chat.completions.create(request);
    check(whole.choices[0].message.content === text,
      'the migrated stream\'s text is the text answered whole (nothing lost or repeated)',
      { streamed: text, whole: whole.choices[0].message.content });
    return { worker, finishReason: finish, completionTokens: usage.completion_tokens };
  },
};

await run(SUITE, scenarios, config.scenarios,
  ['chat', 'create', 'stream', 'tool', 'previous-response', 'retrieve-delete', 'retrieve-unknown']);
