//! Media through an in-process node with real str0m peers on loopback: fan-out with
//! the cached GOP, subscribe-before-publish, republish continuity, DataChannels.

mod common;

use std::time::Duration;

use common::{CONNECT, Received, send_frames, wait_data_channels};
use wishcast_client::{DataMessage, PublishOptions, Publisher, SubscribeOptions, Subscriber};

const COLLECT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_subscribers_get_every_frame_intact_and_in_order() {
    let node = common::start().await;
    let mut p = Publisher::connect(&node.whip("fan"), None, PublishOptions::default()).await.unwrap();
    p.wait_connected(CONNECT).await.unwrap();
    // The stream is live before anyone watches: subscribers join mid-GOP and must
    // get the cached GOP (from keyframe 0) followed by the live frames.
    let mut sent = send_frames(&mut p, 0, 20, 30, 30, true).await;

    let mut subs = Vec::new();
    for _ in 0..3 {
        subs.push(Subscriber::connect(&node.whep("fan"), None, SubscribeOptions::default()).await.unwrap());
    }
    for s in &subs {
        s.wait_connected(CONNECT).await.unwrap();
    }
    // ~3 s of live video at 30 fps (keyframes at 30, 60, 90) plus audio.
    sent.extend(send_frames(&mut p, 20, 90, 30, 30, true).await);
    let last = sent.last().unwrap().seq;

    for (i, s) in subs.iter_mut().enumerate() {
        let who = format!("subscriber {i}");
        let mut r = Received::default();
        r.collect_until(s, last, COLLECT).await;
        r.assert_video(&who, &sent, last);
        let first = r.video[0].1.seq;
        assert_eq!(first, 0, "{who}: the cached GOP starts at keyframe 0, got {:?}", r.video_seqs());
        // Audio is not cached: what was sent after the subscriber connected (90 frames),
        // allowing for loss since audio has no retransmission.
        r.assert_audio(&who, 72);
    }
    // Frames really were split into several RTP packets each.
    let frames = sent.len() as u64;
    common::wait_until("publisher packet counters", CONNECT, || async {
        let st = node.stream_json("fan", None).await.unwrap();
        st["stats"]["publish"]["packets"].as_u64().unwrap_or(0) >= 3 * frames
    })
    .await;
    assert_eq!(p.close().await.unwrap(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriber_waiting_before_the_publisher_gets_the_stream() {
    let node = common::start().await;
    let mut s = Subscriber::connect(&node.whep("early"), None, SubscribeOptions::default()).await.unwrap();
    s.wait_connected(CONNECT).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(s.try_recv_media().is_none(), "nothing to receive before a publisher exists");

    let mut p = Publisher::connect(&node.whip("early"), None, PublishOptions::default()).await.unwrap();
    p.wait_connected(CONNECT).await.unwrap();
    let sent = send_frames(&mut p, 0, 60, 30, 30, true).await;
    let mut r = Received::default();
    r.collect_until(&mut s, 59, COLLECT).await;
    r.assert_video("early subscriber", &sent, 59);
    assert_eq!(r.video[0].1.seq, 0, "got {:?}", r.video_seqs());
    r.assert_audio("early subscriber", 48);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn republish_continues_on_the_same_subscriber() {
    let node = common::start().await;
    let mut a = Publisher::connect(&node.whip("re"), None, PublishOptions::default()).await.unwrap();
    a.wait_connected(CONNECT).await.unwrap();
    let mut s = Subscriber::connect(&node.whep("re"), None, SubscribeOptions::default()).await.unwrap();
    s.wait_connected(CONNECT).await.unwrap();

    let sent_a = send_frames(&mut a, 0, 45, 30, 30, true).await;
    let mut ra = Received::default();
    ra.collect_until(&mut s, 44, COLLECT).await;
    ra.assert_video("subscriber (publisher A)", &sent_a, 44);
    assert_eq!(a.close().await.unwrap(), 200, "DELETE of publisher A");
    let st = node.stream_json("re", None).await.expect("stream survives: it has a subscriber");
    assert_eq!(st["publish"]["sessions"].as_array().unwrap().len(), 0);
    assert_eq!(st["subscribe"]["sessions"].as_array().unwrap().len(), 1);

    let mut b = Publisher::connect(&node.whip("re"), None, PublishOptions::default()).await.unwrap();
    b.wait_connected(CONNECT).await.unwrap();
    let sent_b = send_frames(&mut b, 1200, 45, 30, 30, true).await;
    let mut rb = Received::default();
    rb.collect_until(&mut s, 1244, COLLECT).await;
    rb.assert_video("subscriber (publisher B)", &sent_b, 1244);
    assert_eq!(rb.video[0].1.seq, 1200, "B's first keyframe; got {:?}", rb.video_seqs());

    let last_a = ra.video.last().unwrap().0.rtp_time;
    let first_b = rb.video[0].0.rtp_time;
    assert!(
        first_b > last_a,
        "RTP time must keep increasing across the publisher switch: A ended at {last_a}, B started at {first_b}"
    );
    assert!(
        first_b - last_a < 90_000 * 30,
        "the switch should not jump the subscriber's clock far ahead: {last_a} -> {first_b}"
    );
    assert_eq!(b.close().await.unwrap(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_channel_messages_cross_between_publisher_and_subscribers() {
    let node = common::start().await;
    let popts = PublishOptions { data_channel: true, ..Default::default() };
    let mut p = Publisher::connect(&node.whip("dc"), None, popts).await.unwrap();
    let sopts = SubscribeOptions { data_channel: true, ..Default::default() };
    let mut s1 = Subscriber::connect(&node.whep("dc"), None, sopts.clone()).await.unwrap();
    let mut s2 = Subscriber::connect(&node.whep("dc"), None, sopts).await.unwrap();
    for st in [p.state_watch(), s1.state_watch(), s2.state_watch()] {
        common::wait_until("client data channel open", CONNECT, || {
            let st = st.clone();
            async move { st.borrow().channel_open }
        })
        .await;
    }
    wait_data_channels(&node, "dc", 1, 2).await;

    // Publisher -> every subscriber: a text message whose bytes look binary-ish and a
    // binary message whose bytes are valid text; the flags must survive.
    p.send_text("hello 0102").await.unwrap();
    p.send_binary(b"hello 0102").await.unwrap();
    p.send_binary(&[0, 1, 2, 255, 254]).await.unwrap();
    let want = vec![
        DataMessage { binary: false, data: b"hello 0102".to_vec() },
        DataMessage { binary: true, data: b"hello 0102".to_vec() },
        DataMessage { binary: true, data: vec![0, 1, 2, 255, 254] },
    ];
    for (name, s) in [("s1", &mut s1), ("s2", &mut s2)] {
        let mut got = Vec::new();
        while got.len() < want.len() {
            match s.recv_data(CONNECT).await {
                Some(m) => got.push(m),
                None => break,
            }
        }
        assert_eq!(got, want, "{name} received");
    }

    // Subscriber -> publisher only (not to the other subscriber).
    s1.send_text("from s1").await.unwrap();
    s1.send_binary(&[9, 8, 7]).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 2 {
        match p.recv_data(CONNECT).await {
            Some(m) => got.push(m),
            None => break,
        }
    }
    assert_eq!(
        got,
        vec![
            DataMessage { binary: false, data: b"from s1".to_vec() },
            DataMessage { binary: true, data: vec![9, 8, 7] }
        ]
    );
    assert!(s2.recv_data(Duration::from_millis(500)).await.is_none(), "subscriber messages go to the publisher only");
    assert!(s1.recv_data(Duration::from_millis(100)).await.is_none(), "no echo to the sender");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_publisher_switch_video_resumes_at_a_keyframe() {
    let node = common::start().await;
    let mut a = Publisher::connect(&node.whip("gate"), None, PublishOptions::default()).await.unwrap();
    a.wait_connected(CONNECT).await.unwrap();
    let mut s = Subscriber::connect(&node.whep("gate"), None, SubscribeOptions::default()).await.unwrap();
    s.wait_connected(CONNECT).await.unwrap();
    let sent_a = send_frames(&mut a, 0, 30, 30, 30, true).await;
    let mut ra = Received::default();
    ra.collect_until(&mut s, 29, COLLECT).await;
    ra.assert_video("subscriber (A)", &sent_a, 29);
    assert_eq!(a.close().await.unwrap(), 200);

    // B's stream starts with delta frames (as after a lost first keyframe): they
    // reference pictures the subscriber never had, so they must not be forwarded
    // before B's first keyframe (1210).
    let mut b = Publisher::connect(&node.whip("gate"), None, PublishOptions::default()).await.unwrap();
    b.wait_connected(CONNECT).await.unwrap();
    let sent_b = send_frames(&mut b, 1201, 20, 30, 10, false).await;
    let mut rb = Received::default();
    rb.collect_until(&mut s, 1220, COLLECT).await;
    assert!(!rb.video.is_empty(), "B's video reaches the subscriber");
    assert_eq!(
        rb.video[0].1.seq,
        1210,
        "first frame of the new publisher must be its keyframe; got {:?}",
        rb.video_seqs()
    );
    rb.assert_video("subscriber (B)", &sent_b, 1220);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_joiner_without_a_cached_gop_gets_a_keyframe_requested() {
    let node = common::start().await;
    let mut p = Publisher::connect(&node.whip("pli"), None, PublishOptions::default()).await.unwrap();
    p.wait_connected(CONNECT).await.unwrap();
    // Only delta frames so far: nothing a joiner could start decoding from.
    let mut sent = send_frames(&mut p, 1, 10, 30, 1_000_000, false).await;
    let before = p.keyframe_requests();
    let mut s = Subscriber::connect(&node.whep("pli"), None, SubscribeOptions::default()).await.unwrap();
    s.wait_connected(CONNECT).await.unwrap();
    let mut next = 11;
    let end = std::time::Instant::now() + CONNECT;
    while p.keyframe_requests() == before {
        assert!(std::time::Instant::now() < end, "the SFU never asked the publisher for a keyframe");
        sent.extend(send_frames(&mut p, next, 3, 30, 1_000_000, false).await);
        next += 3;
    }
    // Answer with a keyframe (seq 1000) and some deltas.
    sent.extend(send_frames(&mut p, 1000, 15, 30, 1000, false).await);
    let mut r = Received::default();
    r.collect_until(&mut s, 1014, COLLECT).await;
    assert_eq!(
        r.video.first().map(|v| v.1.seq),
        Some(1000),
        "deltas before the keyframe are held back: {:?}",
        r.video_seqs()
    );
    r.assert_video("late joiner", &sent, 1014);

    // A subscriber's own PLI reaches the publisher too (coalesced, so allow time).
    let before = p.keyframe_requests();
    tokio::time::sleep(Duration::from_millis(600)).await;
    s.request_keyframe().await.unwrap();
    common::wait_until("PLI forwarded to the publisher", CONNECT, || async { p.keyframe_requests() > before }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h264_is_forwarded_intact() {
    let node = common::start().await;
    let popts = PublishOptions { video: Some(wishcast_client::VideoCodec::H264), ..Default::default() };
    let mut p = Publisher::connect(&node.whip("avc"), None, popts).await.unwrap();
    p.wait_connected(CONNECT).await.unwrap();
    let sopts = SubscribeOptions { video: Some(wishcast_client::VideoCodec::H264), ..Default::default() };
    let mut s = Subscriber::connect(&node.whep("avc"), None, sopts).await.unwrap();
    s.wait_connected(CONNECT).await.unwrap();
    let sent = send_frames(&mut p, 0, 60, 30, 30, true).await;
    let mut r = Received::default();
    r.collect_until(&mut s, 59, COLLECT).await;
    r.assert_video("H.264 subscriber", &sent, 59);
    r.assert_audio("H.264 subscriber", 48);
    let st = node.stream_json("avc", None).await.unwrap();
    assert!(st["codecs"].as_array().unwrap().iter().any(|c| c["codec"] == "h264"), "{st}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_publisher_is_reaped_and_the_stream_can_be_republished() {
    let node = common::start().await;
    let mut s = Subscriber::connect(&node.whep("gone"), None, SubscribeOptions::default()).await.unwrap();
    s.wait_connected(CONNECT).await.unwrap();
    let mut a = Publisher::connect(&node.whip("gone"), None, PublishOptions::default()).await.unwrap();
    a.wait_connected(CONNECT).await.unwrap();
    send_frames(&mut a, 0, 10, 30, 30, false).await;
    // No DELETE: the client just stops answering (crash, network loss).
    drop(a);
    common::wait_until("the silent publisher to be reaped", Duration::from_secs(60), || async {
        let st = node.stream_json("gone", None).await.expect("stream kept for its subscriber");
        st["publish"]["sessions"].as_array().map(|v| v.is_empty()).unwrap_or(false)
    })
    .await;
    let mut from_a = Received::default();
    from_a.drain_from(&mut s);
    let mut b = Publisher::connect(&node.whip("gone"), None, PublishOptions::default()).await.unwrap();
    b.wait_connected(CONNECT).await.unwrap();
    let sent = send_frames(&mut b, 3000, 30, 30, 30, true).await;
    let mut r = Received::default();
    r.collect_until(&mut s, 3029, COLLECT).await;
    r.assert_video("subscriber after the reaped publisher", &sent, 3029);
    assert_eq!(r.video[0].1.seq, 3000, "{:?}", r.video_seqs());
}
