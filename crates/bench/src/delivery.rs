//! Delivery throughput: a seeded log handed over from its first event by one subscription to
//! a webhook receiver in this process (answering 204 at once) and to a NATS JetStream stream,
//! each against a plain read of the same log measured in the same run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use suspense::delivery::{
    Delivery, DeliverySettings, EventFilter, JetStreamSubject, NatsServer, StartAt, Subscription,
    SubscriptionName, Target, WebhookSecret, WebhookUrl,
};
use suspense_store::{EventLog, PoolSettings, StoreLocation};
use suspense_testkit::{fixed_services, Backend, TestDatabase};

use crate::seed::LogOrder;

pub async fn run(
    backend: Backend,
    events: usize,
    nats: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let db = TestDatabase::create(backend).await;
    let location = StoreLocation::parse(&db.url())?;
    let log =
        Arc::new(EventLog::open(&location, fixed_services(), &PoolSettings::default()).await?);
    let written = crate::seed::seed(log.pool(), events, LogOrder::Time).await?;
    let head = log.settle(Duration::from_secs(600)).await?;

    let started = Instant::now();
    let mut after = 0;
    loop {
        let page = log.read_after(after, 256).await?;
        let Some(last) = page.last().and_then(|e| e.position) else {
            break;
        };
        after = last;
    }
    let read_rate = written as f64 / started.elapsed().as_secs_f64();
    println!("## {backend:?}: {written} events (time order), head {head}");
    println!("| target | events | seconds | events/s | / read of the log in pages of 256 |");
    println!("|---|---:|---:|---:|---:|");
    println!("| plain read (baseline) | {written} | - | {read_rate:.0} | 1.00 |");

    let (url, received, receiver) = receiver().await?;
    let webhook = Target::Webhook {
        url: WebhookUrl::parse(&url)?,
        secret: WebhookSecret::parse("a-benchmark-secret-of-32-bytes-or-more")?,
    };
    let rate = deliver(&log, "bench-webhook", webhook, head).await?;
    receiver.abort();
    println!(
        "| webhook, this process's receiver ({} requests) | {written} | {:.1} | {rate:.0} | {:.2} |",
        received.load(Ordering::Relaxed),
        written as f64 / rate,
        rate / read_rate
    );

    match jetstream_stream(nats).await {
        Ok((context, stream, subject)) => {
            let target = Target::JetStream {
                server: NatsServer::parse(nats)?,
                subject: JetStreamSubject::parse(&subject)?,
            };
            let rate = deliver(&log, "bench-jetstream", target, head).await?;
            let mut stream_handle = context.get_stream(&stream).await?;
            let messages = stream_handle.info().await?.state.messages;
            context.delete_stream(&stream).await?;
            println!(
                "| JetStream ({messages} messages in the stream) | {written} | {:.1} | {rate:.0} | {:.2} |",
                written as f64 / rate,
                rate / read_rate
            );
        }
        Err(err) => println!("| JetStream | - | - | not measured: {err} | - |"),
    }
    Ok(())
}

/// One subscription from the log's first event to `head`: events per second.
async fn deliver(
    log: &Arc<EventLog>,
    name: &str,
    target: Target,
    head: u64,
) -> Result<f64, Box<dyn std::error::Error>> {
    let subscription = Subscription {
        name: SubscriptionName::parse(name)?,
        filter: EventFilter::default(),
        target,
        start: StartAt::Beginning,
        max_attempts: 3,
    };
    let settings = DeliverySettings {
        poll: Duration::from_millis(10),
        ..DeliverySettings::default()
    };
    let delivery = Delivery::new(Arc::clone(log), vec![subscription], settings).await?;
    let started = Instant::now();
    let tasks = delivery.spawn();
    loop {
        let status = delivery.status().await?;
        let Some(now) = status.first() else { break };
        if now.parked_at.is_some() {
            return Err(format!("{name} parked: {:?}", now.last_error).into());
        }
        if now.position >= head {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    for task in tasks {
        task.abort();
    }
    Ok(head as f64 / elapsed.as_secs_f64())
}

/// A receiver that answers 204 to every POST and counts them.
async fn receiver(
) -> Result<(String, Arc<AtomicU64>, tokio::task::JoinHandle<()>), Box<dyn std::error::Error>> {
    let count = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&count);
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move || {
            counted.fetch_add(1, Ordering::Relaxed);
            async { axum::http::StatusCode::NO_CONTENT }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((format!("http://{address}/hooks"), count, task))
}

/// A stream of its own on the NATS server, for one run.
async fn jetstream_stream(
    nats: &str,
) -> Result<(async_nats::jetstream::Context, String, String), Box<dyn std::error::Error>> {
    let client = async_nats::connect(nats).await?;
    let context = async_nats::jetstream::new(client);
    let run = std::process::id();
    let (stream, subject) = (format!("BENCH_{run}"), format!("bench.suspense.{run}"));
    context
        .create_stream(async_nats::jetstream::stream::Config {
            name: stream.clone(),
            subjects: vec![subject.clone()],
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await?;
    Ok((context, stream, subject))
}
