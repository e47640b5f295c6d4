import { renderMarkdown, escapeHtml } from './markdown.js';

// The conversation sent back as `messages` on every turn.
const messages = [];
const models = new Map(); // id -> { inputModalities, maxModelLen, description }
let controller = null;
let pendingImage = null; // data: URL

const $ = (id) => document.getElementById(id);
const conversation = $('conversation');
const prompt = $('prompt');
const sendButton = $('send');
const stopButton = $('stop');
const errorBox = $('error');
const apiKey = $('api-key');
const temperature = $('temperature');

apiKey.value = localStorage.getItem('nuri.apiKey') || '';
apiKey.addEventListener('change', () => { localStorage.setItem('nuri.apiKey', apiKey.value); loadModels(); });
temperature.addEventListener('input', () => { $('temperature-value').textContent = temperature.value; });

function headers() {
  const h = { 'Content-Type': 'application/json' };
  if (apiKey.value.trim()) h.Authorization = 'Bearer ' + apiKey.value.trim();
  return h;
}

// The error sits in the composer, above the text the user is typing, so it is seen where they look.
function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = false;
  errorBox.scrollIntoView({ block: 'nearest' });
}

function clearError() {
  errorBox.hidden = true;
  errorBox.textContent = '';
}

// The server's OpenAI-shaped error, told in Korean.
function koreanError(status, error) {
  const code = error && error.code;
  const message = (error && error.message) || '';
  if (status === 401) return 'API 키가 없거나 올바르지 않습니다. 설정에서 API 키를 확인해 주세요.';
  if (status === 429) return '요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.';
  if (status === 503 && code === 'server_draining') return '서버가 점검을 위해 종료 중입니다. 잠시 후 다시 시도해 주세요.';
  if (status === 503) return '서버가 지금 매우 바쁩니다. 잠시 후 다시 시도해 주세요.';
  if (status === 504) return '응답 시간이 너무 오래 걸려 요청이 취소되었습니다.';
  if (status === 404 && code === 'model_not_found') return '선택한 모델을 찾을 수 없습니다.';
  if (status === 413) return '보내는 내용이 너무 큽니다.';
  if (status === 400 && /context length/.test(message)) return '입력이 너무 깁니다. 대화를 줄이거나 최대 토큰 수를 낮춰 주세요.';
  if (status === 400 && /images/.test(message)) return '선택한 모델은 이미지를 받을 수 없습니다.';
  if (status === 400) return '요청이 올바르지 않습니다: ' + message;
  return '오류가 발생했습니다 (' + status + '): ' + message;
}

async function loadModels() {
  try {
    const response = await fetch('/v1/models', { headers: headers() });
    const body = await response.json();
    if (!response.ok) { showError(koreanError(response.status, body.error)); return; }
    const select = $('model');
    const previous = select.value;
    select.textContent = '';
    models.clear();
    for (const m of body.data) {
      models.set(m.id, { inputModalities: m.input_modalities || ['text'], maxModelLen: m.max_model_len || 0,
        description: m.description || '' });
      const option = document.createElement('option');
      option.value = m.id;
      option.textContent = m.id;
      select.append(option);
    }
    if (models.has(previous)) select.value = previous;
    showModelInfo();
    clearError();
  } catch (e) {
    showError('서버에 연결할 수 없습니다.');
  }
}

// Which model answers, and what its model card says of it (the demo models say they are demos).
function showModelInfo() {
  const id = $('model').value;
  const m = models.get(id);
  $('model-info').hidden = !m;
  if (!m) return;
  $('model-name').textContent = id;
  $('model-description').textContent = m.description;
  $('model-description').hidden = !m.description;
}
$('model').addEventListener('change', showModelInfo);

function acceptsImages() {
  const m = models.get($('model').value);
  return !!m && m.inputModalities.includes('image');
}

function attach(file) {
  if (!file || !file.type.startsWith('image/')) return;
  if (!acceptsImages()) { showError('선택한 모델은 이미지를 받을 수 없습니다. 글로 질문해 주세요.'); return; }
  const reader = new FileReader();
  reader.onload = () => {
    pendingImage = reader.result;
    $('attachment-preview').src = pendingImage;
    $('attachment').hidden = false;
  };
  reader.readAsDataURL(file);
}

function removeAttachment() {
  pendingImage = null;
  $('attachment').hidden = true;
  $('image').value = '';
}

function addMessage(role, html) {
  const div = document.createElement('div');
  div.className = 'message ' + role;
  const content = document.createElement('div');
  content.className = 'content';
  content.innerHTML = html;
  div.append(content);
  conversation.append(div);
  div.scrollIntoView({ block: 'end' });
  return div;
}

// The prompt's length in tokens as the server counts it (chat template and images included), or null if unknown.
async function countTokens(model, list) {
  try {
    const response = await fetch('/tokenize', { method: 'POST', headers: headers(), body: JSON.stringify({ model, messages: list }) });
    if (!response.ok) return null;
    return (await response.json()).count;
  } catch (e) {
    return null;
  }
}

function isNearBottom() {
  return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 120;
}

function note(text) {
  const div = document.createElement('div');
  div.className = 'note';
  div.textContent = text;
  conversation.append(div);
}

// Keeps the conversation within the model's context: the oldest turns are dropped (and the page says
// so) until the prompt leaves room for an answer, and max_tokens is what the context leaves, so a long
// conversation never ends in a 400. Returns the max_tokens to send, or throws when even the last
// question alone does not fit.
const MIN_ANSWER_TOKENS = 16;
async function fitToContext(model) {
  const wanted = Number($('max-tokens').value);
  const m = models.get(model);
  if (!m || !m.maxModelLen) return wanted;
  let dropped = 0;
  for (;;) {
    const count = await countTokens(model, messages);
    if (count === null) return Math.min(wanted, m.maxModelLen);
    const room = m.maxModelLen - count;
    if (room >= Math.min(wanted, MIN_ANSWER_TOKENS)) {
      if (dropped > 0) note(`대화가 모델의 문맥(${m.maxModelLen} 토큰)보다 길어져 앞의 메시지 ${dropped}개는 빼고 보냈습니다.`);
      return Math.min(wanted, room);
    }
    if (messages.length <= 1) {
      throw Object.assign(new Error('too long'), { tooLong: true });
    }
    // Drop the oldest message, and an assistant reply left at the front with it: a turn starts with the user.
    messages.shift();
    dropped++;
    while (messages.length > 1 && messages[0].role !== 'user') { messages.shift(); dropped++; }
  }
}

async function send() {
  const text = prompt.value.trim();
  if (!text || controller) return;
  clearError();
  const content = pendingImage
    ? [{ type: 'image_url', image_url: { url: pendingImage } }, { type: 'text', text }]
    : text;
  const userDiv = addMessage('user', escapeHtml(text));
  if (pendingImage) {
    const img = document.createElement('img');
    img.src = pendingImage;
    img.alt = '첨부한 이미지';
    userDiv.append(img);
  }
  messages.push({ role: 'user', content });
  prompt.value = '';
  removeAttachment();

  const bubble = addMessage('assistant', '');
  const target = bubble.querySelector('.content');
  controller = new AbortController();
  sendButton.disabled = true;
  stopButton.disabled = false;
  const started = performance.now();
  let firstToken = null;
  let answer = '';
  let usage = null;
  try {
    const maxTokens = await fitToContext($('model').value);
    const response = await fetch('/v1/chat/completions', {
      method: 'POST',
      headers: headers(),
      signal: controller.signal,
      body: JSON.stringify({
        model: $('model').value,
        messages,
        stream: true,
        stream_options: { include_usage: true },
        temperature: Number(temperature.value),
        max_tokens: maxTokens,
      }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw Object.assign(new Error('http'), { status: response.status, error: body.error });
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6);
        if (data === '[DONE]') continue;
        const chunk = JSON.parse(data);
        if (chunk.error) throw Object.assign(new Error('stream'), { status: 500, error: chunk.error });
        if (chunk.usage) usage = chunk.usage;
        for (const choice of chunk.choices || []) {
          const delta = choice.delta && choice.delta.content;
          if (delta) {
            if (firstToken === null) firstToken = performance.now();
            answer += delta;
            const follow = isNearBottom(); // follow the answer unless the user scrolled up to read
            target.innerHTML = renderMarkdown(answer);
            if (follow) window.scrollTo(0, document.documentElement.scrollHeight);
          }
        }
      }
    }
    messages.push({ role: 'assistant', content: answer });
    const stats = document.createElement('div');
    stats.className = 'stats';
    const end = performance.now();
    const tokens = usage ? usage.completion_tokens : 0;
    const decodeSeconds = firstToken === null ? 0 : (end - firstToken) / 1000;
    const rate = decodeSeconds > 0 && tokens > 1 ? (tokens - 1) / decodeSeconds : tokens / ((end - started) / 1000);
    stats.textContent = `첫 토큰 ${Math.round((firstToken ?? end) - started)} ms · ${rate.toFixed(1)} 토큰/초 · ${tokens} 토큰`;
    bubble.append(stats);
  } catch (e) {
    if (e.name === 'AbortError') {
      const note = document.createElement('div');
      note.className = 'stopped';
      note.textContent = '(답변을 멈췄습니다)';
      bubble.append(note);
      if (answer) messages.push({ role: 'assistant', content: answer });
      else messages.pop();
    } else {
      bubble.remove();
      messages.pop();
      showError(e.tooLong ? '질문이 모델의 문맥보다 깁니다. 더 짧게 물어봐 주세요.'
        : e.status ? koreanError(e.status, e.error) : '서버에 연결할 수 없습니다.');
    }
  } finally {
    controller = null;
    sendButton.disabled = false;
    stopButton.disabled = true;
    prompt.focus();
  }
}

$('composer').addEventListener('submit', (e) => { e.preventDefault(); send(); });
prompt.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
});
stopButton.addEventListener('click', () => { if (controller) controller.abort(); });
$('clear').addEventListener('click', () => {
  if (controller) controller.abort();
  messages.length = 0;
  conversation.textContent = '';
  clearError();
  prompt.focus();
});
$('image').addEventListener('change', (e) => attach(e.target.files[0]));
$('attachment-remove').addEventListener('click', removeAttachment);
prompt.addEventListener('paste', (e) => {
  for (const item of e.clipboardData.items) {
    if (item.type.startsWith('image/')) { e.preventDefault(); attach(item.getAsFile()); }
  }
});
const composer = $('composer');
composer.addEventListener('dragover', (e) => { e.preventDefault(); composer.classList.add('dragging'); });
composer.addEventListener('dragleave', () => composer.classList.remove('dragging'));
composer.addEventListener('drop', (e) => {
  e.preventDefault();
  composer.classList.remove('dragging');
  attach(e.dataTransfer.files[0]);
});

loadModels();
prompt.focus();
