// transfer.js: the agent page's transfer form. The agent sends the call to a queue, to one
// agent by sign-in name, or out to a number, blind or after talking to the agent or the number
// first (a consult: the caller holds meanwhile); the server answers with call.ended (reason
// `transferred`) or an `error` whose message this form shows (docs/softphone.md, `transfer`).

const $ = (id) => document.getElementById(id);

const toAgent = 'agent';
const toNumber = 'number';

/**
 * bindTransfer wires the form: send(message) sends one request and says whether it went;
 * current() is the call in progress, or null. It returns
 *   setQueues(names)  fills the choices (from hello.queues);
 *   focus()           moves the keyboard to the form (the T key);
 *   failed(message)   shows why the server refused;
 *   reset()           clears the form for the next call;
 *   set disabled      whether the form can be used (only while connected).
 */
export function bindTransfer({ send, current }) {
  const form = $('transfer');
  const to = $('transfer-to');
  const agentField = $('transfer-agent-field');
  const agent = $('transfer-agent');
  const numberField = $('transfer-number-field');
  const number = $('transfer-number');
  const error = $('transfer-error');
  const button = $('transfer-send');
  const consultButton = $('transfer-consult');
  const consultPanel = $('consult');
  const consultStatus = $('consult-status');
  const complete = $('consult-complete');
  let pending = false;
  let consulting = false;

  function showAgent() {
    agentField.hidden = to.value !== toAgent;
    numberField.hidden = to.value !== toNumber;
    consultButton.hidden = to.value !== toNumber && to.value !== toAgent;
  }

  // typedNumber is the number field's digits, or null after saying what is wrong.
  function typedNumber() {
    const digits = number.value.replace(/[\s().-]/g, '');
    if (!/^\+?[0-9*#]{2,32}$/.test(digits)) {
      failed('Type the number to transfer to: digits, with + * # allowed.');
      number.focus();
      return null;
    }
    return digits;
  }

  function endConsult(words) {
    consulting = false;
    consultPanel.hidden = true;
    complete.disabled = true;
    if (words) error.textContent = words;
  }

  // typedAgent is the agent field's sign-in name, or null after saying what is missing.
  function typedAgent() {
    const name = agent.value.trim();
    if (!name) {
      failed('Type the sign-in name of the agent to transfer to.');
      agent.focus();
      return null;
    }
    return name;
  }

  consultButton.addEventListener('click', () => {
    const call = current();
    if (!call || consulting) return;
    const message = { type: 'consult', call_id: call.id };
    if (to.value === toAgent) message.agent = typedAgent();
    else message.number = typedNumber();
    const who = message.agent || message.number;
    if (!who) return;
    if (!send(message)) {
      failed('The softphone is offline; try again when it is connected.');
      return;
    }
    consulting = true;
    error.textContent = '';
    consultPanel.hidden = false;
    consultStatus.textContent = `${message.agent ? 'Ringing' : 'Calling'} ${who}… The caller hears music.`;
  });
  complete.addEventListener('click', () => {
    const call = current();
    if (call && consulting) send({ type: 'consult.complete', call_id: call.id });
  });
  $('consult-cancel').addEventListener('click', () => {
    const call = current();
    if (call && consulting) send({ type: 'consult.cancel', call_id: call.id });
  });

  function failed(message) {
    pending = false;
    button.disabled = false;
    error.textContent = message;
  }

  to.addEventListener('change', () => {
    error.textContent = '';
    showAgent();
  });
  for (const input of [agent, number]) {
    input.addEventListener('input', () => {
      error.textContent = '';
    });
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const call = current();
    if (!call || pending) return;
    const message = { type: 'transfer', call_id: call.id };
    if (to.value === toAgent) {
      const name = typedAgent();
      if (name === null) return;
      message.agent = name;
    } else if (to.value === toNumber) {
      const digits = typedNumber();
      if (digits === null) return;
      message.number = digits;
    } else if (to.value) {
      message.queue = to.value;
    } else {
      failed('Choose where to transfer the call.');
      return;
    }
    if (!send(message)) {
      failed('The softphone is offline; try again when it is connected.');
      return;
    }
    pending = true;
    button.disabled = true;
    error.textContent = '';
  });

  return {
    setQueues(names) {
      const keep = to.value;
      to.replaceChildren();
      to.append(new Option('Choose…', ''));
      for (const name of names || []) to.append(new Option(`Queue: ${name}`, name));
      to.append(new Option('An agent…', toAgent));
      to.append(new Option('A number…', toNumber));
      if ([...to.options].some((o) => o.value === keep)) to.value = keep;
      showAgent();
    },
    focus() {
      to.focus();
    },
    failed(message, ref = 'transfer') {
      if (ref === 'consult') endConsult('');
      failed(message);
    },
    // consultState follows the server's consult.state.
    consultState(m) {
      const who = m.agent || m.number || 'The other side';
      if (m.state === 'talking') {
        consulting = true;
        consultPanel.hidden = false;
        complete.disabled = false;
        consultStatus.textContent = `Talking with ${who}. The caller hears music.`;
      } else if (m.state === 'ringing' || m.state === 'dialling') {
        consulting = true;
        consultPanel.hidden = false;
        consultStatus.textContent = `${m.state === 'ringing' ? 'Ringing' : 'Calling'} ${who}… The caller hears music.`;
      } else if (m.state === 'ended') {
        const words = { cancelled: '', no_answer: `${who} did not answer; you are back with the caller.`,
          declined: `${who} declined; you are back with the caller.`,
          hung_up: `${who} hung up; you are back with the caller.` }[m.reason];
        endConsult(words === undefined ? 'The consult ended; you are back with the caller.' : words);
      }
    },
    reset() {
      endConsult('');
      pending = false;
      error.textContent = '';
      agent.value = '';
      number.value = '';
      to.value = '';
      showAgent();
    },
    set disabled(off) {
      for (const el of [to, agent, number]) el.disabled = off;
      button.disabled = off || pending;
    },
  };
}
