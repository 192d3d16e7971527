// call-media.js: one call's WebRTC leg in the browser: the microphone, the peer connection to
// the node holding the call (no trickle ICE; the server chooses Opus or PCMU), the caller's
// audio in an <audio> element, its level through WebAudio, and an ICE restart after a network blip.

const gatherTimeoutMs = 3000; // Send what ICE has gathered by then (docs/softphone.md: no trickle).
const restartAfterMs = 2000;  // How long 'disconnected' or 'failed' may last before an ICE restart.
const restartRetryMs = 10000; // An unanswered restart may be tried again after this.

/**
 * CallMedia is the media of one call. Create it, then offer() for the SDP to send with
 * `answer`, accept(sdp) on `call.sdp`, and close() when the call ends.
 * Options: callId, iceServers (from hello), audio (the <audio> element that plays the caller),
 * audioContext (a function returning the page's AudioContext, for the level meter),
 * onRestart(sdp) (called with an ICE-restart offer to send), onState() (any state change).
 */
export class CallMedia {
  constructor({ callId, iceServers = [], audio, audioContext, onRestart, onState }) {
    this.callId = callId;
    this.iceServers = iceServers;
    this.audio = audio;
    this.audioContext = audioContext;
    this.onRestart = onRestart || (() => {});
    this.onState = onState || (() => {});
    this.pc = null;
    this.mic = null;
    this.remote = null;
    this.analyser = null;
    this.source = null;
    this.samples = null;
    this.muted = false;
    this.closed = false;
    this.restartTimer = 0;
    this.restartPending = 0; // Time the last restart offer went out, while unanswered.
  }

  /** offer opens the microphone and the peer connection and resolves with the page's SDP offer. */
  async offer() {
    this.mic = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    if (this.closed) {
      this.stopMic();
      throw new Error('the call ended while the microphone opened');
    }
    const pc = new RTCPeerConnection({ iceServers: normaliseIceServers(this.iceServers) });
    this.pc = pc;
    const [track] = this.mic.getAudioTracks();
    track.enabled = !this.muted;
    pc.addTransceiver(track, { direction: 'sendrecv', streams: [this.mic] });

    pc.addEventListener('track', (e) => this.playRemote(e));
    pc.addEventListener('iceconnectionstatechange', () => this.watchIce());
    pc.addEventListener('connectionstatechange', () => this.onState());
    pc.addEventListener('signalingstatechange', () => this.onState());

    await pc.setLocalDescription(await pc.createOffer());
    return this.gathered();
  }

  /** accept applies the server's SDP answer (to the first offer or to a restart). */
  async accept(sdp) {
    if (!this.pc || this.closed) return;
    if (this.pc.signalingState !== 'have-local-offer') return; // A repeated answer: already applied.
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    this.restartPending = 0;
    this.onState();
  }

  /** setMuted enables or disables the microphone track (the server is told separately). */
  setMuted(on) {
    this.muted = Boolean(on);
    if (this.mic) for (const t of this.mic.getAudioTracks()) t.enabled = !this.muted;
  }

  /** restart makes an ICE-restart offer and hands it to onRestart. */
  async restart() {
    const pc = this.pc;
    if (!pc || this.closed) return;
    if (pc.signalingState !== 'stable') {
      if (!this.restartPending || Date.now() - this.restartPending < restartRetryMs) return;
      // The last restart was never answered: roll it back and try again.
      await pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
    }
    this.restartPending = Date.now();
    await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
    const sdp = await this.gathered();
    if (!this.closed) this.onRestart(sdp);
  }

  /** level is the RMS (0..1) of the caller's audio over the analyser's last window. */
  level() {
    if (!this.analyser) return 0;
    const ctx = this.analyser.context;
    if (ctx.state === 'suspended') ctx.resume().catch(() => {});
    this.analyser.getFloatTimeDomainData(this.samples);
    let sum = 0;
    for (const v of this.samples) sum += v * v;
    return Math.sqrt(sum / this.samples.length);
  }

  /** states reports the peer connection's states for the page and for tests. */
  states() {
    const pc = this.pc;
    return {
      ice: pc ? pc.iceConnectionState : 'new',
      connection: pc ? pc.connectionState : 'new',
      signaling: pc ? pc.signalingState : 'closed',
      gathering: pc ? pc.iceGatheringState : 'new',
    };
  }

  /** close ends the leg: the peer connection, the microphone and the meter. Idempotent. */
  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.restartTimer);
    if (this.source) this.source.disconnect();
    this.source = null;
    this.analyser = null;
    if (this.pc) this.pc.close();
    this.stopMic();
    if (this.audio && this.audio.srcObject === this.remote) this.audio.srcObject = null;
    this.remote = null;
    this.onState();
  }

  stopMic() {
    if (this.mic) for (const t of this.mic.getTracks()) t.stop();
    this.mic = null;
  }

  // gathered waits for ICE gathering to complete, or gatherTimeoutMs, and returns the SDP
  // with the candidates found so far.
  gathered() {
    const pc = this.pc;
    return new Promise((resolve) => {
      let timer = 0;
      const done = () => {
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve(pc.localDescription ? pc.localDescription.sdp : '');
      };
      const check = () => {
        if (pc.iceGatheringState === 'complete') done();
      };
      pc.addEventListener('icegatheringstatechange', check);
      timer = setTimeout(done, gatherTimeoutMs);
      check();
    });
  }

  playRemote(e) {
    const stream = e.streams && e.streams[0] ? e.streams[0] : new MediaStream([e.track]);
    this.remote = stream;
    if (this.audio) {
      this.audio.srcObject = stream;
      this.audio.play().catch(() => {}); // Autoplay may wait for a gesture; answering was one.
    }
    const ctx = this.audioContext && this.audioContext();
    if (!ctx) return;
    // Chromium feeds a remote WebRTC stream to WebAudio only while a media element plays it
    // too: the <audio> above plays it, the analyser only listens (not connected to the output).
    if (this.source) this.source.disconnect();
    this.source = ctx.createMediaStreamSource(stream);
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = 2048;
    this.samples = new Float32Array(this.analyser.fftSize);
    this.source.connect(this.analyser);
    this.onState();
  }

  watchIce() {
    this.onState();
    const state = this.pc ? this.pc.iceConnectionState : 'closed';
    clearTimeout(this.restartTimer);
    if (state !== 'disconnected' && state !== 'failed') return;
    this.restartTimer = setTimeout(() => {
      const now = this.pc ? this.pc.iceConnectionState : 'closed';
      if (now === 'disconnected' || now === 'failed') {
        this.restart().catch((err) => console.warn('softphone: ICE restart failed', err));
        this.watchIce(); // Still down after the restart's answer? Try again later.
      }
    }, restartAfterMs);
  }
}

// normaliseIceServers drops entries without urls, so one bad entry does not stop the call.
function normaliseIceServers(list) {
  return (Array.isArray(list) ? list : []).filter((s) => s && s.urls).map((s) => {
    const out = { urls: s.urls };
    if (s.username) out.username = s.username;
    if (s.credential) out.credential = s.credential;
    return out;
  });
}
