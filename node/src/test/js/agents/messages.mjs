// The official `@anthropic-ai/sdk` npm SDK against a Switchboard gateway: the Messages API. Settings and output: see
// common.mjs. Run: node messages.mjs --base-url http://127.0.0.1:8080 --api-key KEY --model mock-llm
import Anthropic, { AuthenticationError, BadRequestError, NotFoundError } from '@anthropic-ai/sdk';
import { check, emit, expectError, run, settings } from './common.mjs';

const SUITE = 'anthropic-messages';
const config = settings();

function client(apiKey = config.apiKey) {
  // No retries: a request that fails must show here, not be hidden by a second try. The SDK sends the key as
  // x-api-key, as Claude Code does.
  return new Anthropic({ baseURL: config.baseUrl, apiKey, maxRetries: 0, timeout: 120_000 });
}

const anthropic = client();

const textOf = (message) => message.content.filter((block) => block.type === 'text').map((block) => block.text).join('');

function checkMessage(message, where) {
  check(message.type === 'message' && message.role === 'assistant', `${where}: an assistant message`,
    { type: message.type, role: message.role });
  check(typeof message.id === 'string' && message.id.length > 0, `${where}: has an id`, message.id);
  check(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use'].includes(message.stop_reason),
    `${where}: a stop_reason`, message.stop_reason);
  // Anthropic counts cached prompt tokens apart: input_tokens is only the uncached part, and may be 0.
  check(message.usage && message.usage.input_tokens >= 0
      && message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0) > 0
      && message.usage.output_tokens > 0,
    `${where}: usage: input (input_tokens + cache_read_input_tokens) and output_tokens`, message.usage);
}

/** The error body the gateway sent is Anthropic's: {"type":"error","error":{"type":T,"message"}}. */
function checkAnthropicError(err, type) {
  check(err.error?.type === 'error' && err.error?.error?.type === type && typeof err.error?.error?.message === 'string',
    `the error body is Anthropic-shaped with type ${type}`, err.error);
}

/**
 * Reads a messages.stream() to its end: the event types in order (message_start first, content_block_delta
 * inside, message_stop last) and the text of its deltas, which must equal finalMessage()'s.
 */
async function readMessageStream(stream, onFirstDelta = () => {}) {
  const types = [];
  let text = '';
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
      if (text === '') {
        onFirstDelta();
      }
      text += event.delta.text;
    }
  }
  const final = await stream.finalMessage();
  check(types[0] === 'message_start', 'the first event is message_start', types.slice(0, 3));
  check(types[types.length - 1] === 'message_stop', 'the last event is message_stop', types.slice(-3));
  check(!types.includes('error'), 'no error event', types);
  const firstDelta = types.indexOf('content_block_delta');
  check(firstDelta > 0 && types.indexOf('content_block_start') < firstDelta, 'content_block_start, then deltas',
    types);
  check(types.indexOf('content_block_stop') > types.lastIndexOf('content_block_delta'),
    'content_block_stop after the last delta', types);
  const messageDelta = types.lastIndexOf('message_delta');
  check(messageDelta > types.lastIndexOf('content_block_stop') && messageDelta < types.length - 1,
    'message_delta (stop_reason, usage) between the blocks and message_stop', types);
  checkMessage(final, 'finalMessage()');
  check(textOf(final) === text, 'the deltas add up to finalMessage()\'s text', { deltas: text, final: textOf(final) });
  return { types, distinct: [...new Set(types)], text, final };
}

const scenarios = {
  /** Sanity check of the install/run path: the SDK lists the gateway's models (GET /v1/models). */
  async models() {
    const ids = [];
    for await (const model of anthropic.models.list()) {
      ids.push(model.id);
    }
    check(ids.includes(config.model), `the model ${config.model} is listed`, ids);
    return { models: ids };
  },

  /** messages.create: a text content block and usage. */
  async create() {
    const message = await anthropic.messages.create({ model: config.model, max_tokens: config.maxTokens,
      system: 'You are terse.', messages: [{ role: 'user', content: 'Say hello in one sentence.' }] });
    checkMessage(message, 'the message');
    check(message.content[0]?.type === 'text' && message.content[0].text.length > 0, 'a non-empty text block',
      message.content);
    check(message.model === config.model, 'the message names the model asked', message.model);
    return { stopReason: message.stop_reason, inputTokens: message.usage.input_tokens,
      outputTokens: message.usage.output_tokens };
  },

  /** messages.stream() with finalMessage(): the event sequence and the text it carries. */
  async stream() {
    const stream = anthropic.messages.stream({ model: config.model, max_tokens: config.maxTokens,
      messages: [{ role: 'user', content: 'Tell me about rivers.' }] });
    const { types, distinct, text, final } = await readMessageStream(stream);
    return { events: types.length, eventTypes: distinct, textChars: text.length, stopReason: final.stop_reason };
  },

  /** A tool: if the model asks for it (tool_use), its tool_result goes back in the next request. */
  async tool() {
    const tools = [{ name: 'get_weather', description: 'The current weather in a city',
      input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];
    const question = { role: 'user', content: 'What is the weather in Paris right now? Use the get_weather tool.' };
    const asked = await anthropic.messages.create({ model: config.model, max_tokens: config.maxTokens, tools,
      messages: [question] });
    checkMessage(asked, 'the first message');
    const uses = asked.content.filter((block) => block.type === 'tool_use');
    if (uses.length === 0) {
      // The model answered without the tool (the mocker never calls tools): recorded, not faked.
      return { toolCalled: false, stopReason: asked.stop_reason, blockTypes: asked.content.map((b) => b.type),
        text: textOf(asked).slice(0, 80) };
    }
    const use = uses[0];
    check(use.name === 'get_weather' && typeof use.id === 'string' && typeof use.input === 'object',
      'the tool_use names the tool, an id and an input object', use);
    const answered = await anthropic.messages.create({ model: config.model, max_tokens: config.maxTokens, tools,
      messages: [question, { role: 'assistant', content: asked.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '21 degrees Celsius' }] }] });
    checkMessage(answered, 'the answer after the tool_result');
    return { toolCalled: true, stopReason: asked.stop_reason, input: use.input,
      answerBlockTypes: answered.content.map((b) => b.type) };
  },

  /** A model no worker serves: NotFoundError with an Anthropic-shaped not_found_error. */
  async 'unknown-model'() {
    const err = await expectError(NotFoundError, () => anthropic.messages.create({
      model: 'switchboard-no-such-model', max_tokens: config.maxTokens, messages: [{ role: 'user', content: 'hi' }] }));
    checkAnthropicError(err, 'not_found_error');
    return { status: err.status, message: err.error.error.message.slice(0, 200) };
  },

  /** max_tokens is required by the Messages API: without it, BadRequestError (invalid_request_error). */
  async 'missing-max-tokens'() {
    // Plain JavaScript: nothing stops the call without max_tokens, as a ts-ignore would in TypeScript.
    const err = await expectError(BadRequestError, () => anthropic.messages.create({ model: config.model,
      messages: [{ role: 'user', content: 'hi' }] }));
    checkAnthropicError(err, 'invalid_request_error');
    check(err.error.error.message.includes('max_tokens'), 'the message names max_tokens', err.error.error.message);
    return { status: err.status, message: err.error.error.message.slice(0, 200) };
  },

  /** messages.countTokens: input_tokens, more for a longer prompt. */
  async 'count-tokens'() {
    const count = (content) => anthropic.messages.countTokens({ model: config.model,
      messages: [{ role: 'user', content }] });
    const short = await count('hello');
    const long = await count('hello '.repeat(50) + 'and a much longer question about rivers and the sea');
    check(Number.isInteger(short.input_tokens) && short.input_tokens > 0, 'input_tokens > 0', short);
    check(long.input_tokens > short.input_tokens, 'a longer prompt counts more tokens',
      { short: short.input_tokens, long: long.input_tokens });
    return { short: short.input_tokens, long: long.input_tokens };
  },

  /** A key the gateway does not know, in x-api-key: AuthenticationError (where the gateway has API keys). */
  async 'bad-key'() {
    const err = await expectError(AuthenticationError, () => client('sk-switchboard-not-a-key').messages.create({
      model: config.model, max_tokens: config.maxTokens, messages: [{ role: 'user', content: 'hi' }] }));
    checkAnthropicError(err, 'authentication_error');
    return { status: err.status };
  },

  /**
   * A long stream whose worker the test SIGKILLs: prints {"event":"serving","worker"} after the first delta, then
   * must still read the whole event sequence to message_stop, with the text the same request gets answered whole.
   */
  async 'kill-stream'() {
    const request = { model: config.model, max_tokens: config.longTokens,
      messages: [{ role: 'user', content: 'Tell me a long story about a lighthouse keeper.' }] };
    const stream = anthropic.messages.stream(request);
    const { response } = await stream.withResponse();
    const worker = response.headers.get('x-switchboard-worker');
    check(worker, 'the stream names its worker in x-switchboard-worker');
    const started = Date.now();
    const { types, distinct, text, final } = await readMessageStream(stream,
      () => emit({ suite: SUITE, scenario: 'kill-stream', event: 'serving', worker }));
    const whole = await anthropic.messages.create(request);
    check(textOf(whole) === text, 'the migrated stream\'s text is the text answered whole (nothing lost or repeated)',
      { streamed: text, whole: textOf(whole) });
    return { worker, events: types.length, eventTypes: distinct, stopReason: final.stop_reason,
      outputTokens: final.usage.output_tokens, streamMs: Date.now() - started };
  },
};

await run(SUITE, scenarios, config.scenarios,
  ['models', 'create', 'stream', 'tool', 'unknown-model', 'missing-max-tokens', 'count-tokens']);
