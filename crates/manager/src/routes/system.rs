//! `GET /api/info` and `GET /metrics` (no auth, like the node).

use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use wishcast_api::Info;

use crate::state::AppState;

pub async fn info() -> Json<Info> {
    Json(Info {
        version: env!("CARGO_PKG_VERSION").to_string(),
        git_hash: option_env!("WISHCAST_GIT_HASH").unwrap_or("unknown").to_string(),
        build_time: option_env!("WISHCAST_BUILD_TIME").unwrap_or("unknown").to_string(),
        features: vec!["manager".into(), "cascade".into(), "proxy".into(), "redirect".into(), "extra-ice".into()],
    })
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([("content-type", "text/plain; version=0.0.4")], crate::metrics::render(&state))
}

/// `GET /`: a minimal WHIP/WHEP test page (publish the camera, play a stream).
pub async fn page() -> impl IntoResponse {
    ([("content-type", "text/html; charset=utf-8")], PAGE)
}

const PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>wishcast</title>
<style>body{font-family:sans-serif;margin:2em}video{width:45%;background:#000;margin:4px}input{width:14em}</style></head>
<body><h1>wishcast cluster</h1>
<p>Stream <input id="s" value="demo"> Token <input id="t" placeholder="(if auth is on)">
<button onclick="pub()">Publish camera (WHIP)</button> <button onclick="play()">Play (WHEP)</button></p>
<p id="st"></p><video id="local" autoplay muted playsinline></video><video id="remote" autoplay muted playsinline controls></video>
<p>API: <a href="/api/nodes/">/api/nodes/</a> · <a href="/api/streams/">/api/streams/</a> · <a href="/metrics">/metrics</a></p>
<script>
const $=id=>document.getElementById(id);
function log(m){$('st').textContent=m}
async function negotiate(pc,url){
  const o=await pc.createOffer();await pc.setLocalDescription(o);
  await new Promise(r=>{if(pc.iceGatheringState==='complete')return r();pc.onicegatheringstatechange=()=>pc.iceGatheringState==='complete'&&r();setTimeout(r,2000)});
  const h={'Content-Type':'application/sdp'};if($('t').value)h.Authorization='Bearer '+$('t').value;
  const r=await fetch(url,{method:'POST',headers:h,body:pc.localDescription.sdp});
  if(r.status!==201)throw new Error(r.status+' '+await r.text());
  await pc.setRemoteDescription({type:'answer',sdp:await r.text()});
  return r.headers.get('Location');
}
async function pub(){try{
  const m=await navigator.mediaDevices.getUserMedia({video:true,audio:true});$('local').srcObject=m;
  const pc=new RTCPeerConnection();m.getTracks().forEach(t=>pc.addTransceiver(t,{direction:'sendonly'}));
  const l=await negotiate(pc,'/whip/'+encodeURIComponent($('s').value));log('publishing: '+l);
}catch(e){log('publish failed: '+e)}}
async function play(){try{
  const pc=new RTCPeerConnection();pc.addTransceiver('video',{direction:'recvonly'});pc.addTransceiver('audio',{direction:'recvonly'});
  const ms=new MediaStream();$('remote').srcObject=ms;pc.ontrack=e=>ms.addTrack(e.track);
  const l=await negotiate(pc,'/whep/'+encodeURIComponent($('s').value));log('playing: '+l);
}catch(e){log('play failed: '+e)}}
</script></body></html>
"#;
