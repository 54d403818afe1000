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
    let written = crate::seed::seed(
        log.pool(),
        events,
        LogOrder::Time,
        crate::seed::DEFAULT_YEARS,
    )
    .await?;
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
    let delivery = Arc::new(Delivery::new(Arc::clone(log), vec![subscription], settings).await?);
    let started = Instant::now();
    let task = delivery.spawn();
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
    task.abort();
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

/// Delivery while commands are taken: `clients` clients run the load's command mix through
/// the library for `seconds`, first with no subscription, then with two (a webhook receiver
/// in this process and a JetStream stream) following the log from its head. Reports each
/// run's command throughput, the events each subscription handed over per second, and the
/// lag between an event becoming readable in the log and its subscription's checkpoint
/// passing it (sampled every 20 ms: p50, p99, max).
pub async fn under_load(
    backend: Backend,
    clients: usize,
    seconds: u64,
    nats: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    use crate::load::{drive, Library, Target as LoadTarget};

    let db = TestDatabase::create(backend).await;
    let library = Arc::new(Library::open(&db.url()).await);
    let log = Arc::clone(library.ledger.log());
    // Warm the pool and caches alike for both runs.
    let _ = drive(
        Arc::clone(&library) as Arc<dyn LoadTarget>,
        clients,
        2,
        None,
        "warm",
    )
    .await;

    let (tally, elapsed) = drive(
        Arc::clone(&library) as Arc<dyn LoadTarget>,
        clients,
        seconds,
        None,
        "bare",
    )
    .await;
    let bare = tally.latencies.len() as f64 / elapsed.as_secs_f64();

    let (url, received, receiver) = receiver().await?;
    let mut subscriptions = vec![Subscription {
        name: SubscriptionName::parse("load-webhook")?,
        filter: EventFilter::default(),
        target: Target::Webhook {
            url: WebhookUrl::parse(&url)?,
            secret: WebhookSecret::parse("a-benchmark-secret-of-32-bytes-or-more")?,
        },
        start: StartAt::Now,
        max_attempts: 3,
    }];
    let stream = match jetstream_stream(nats).await {
        Ok((context, stream, subject)) => {
            subscriptions.push(Subscription {
                name: SubscriptionName::parse("load-jetstream")?,
                filter: EventFilter::default(),
                target: Target::JetStream {
                    server: NatsServer::parse(nats)?,
                    subject: JetStreamSubject::parse(&subject)?,
                },
                start: StartAt::Now,
                max_attempts: 3,
            });
            Some((context, stream))
        }
        Err(err) => {
            println!("JetStream not measured: {err}");
            None
        }
    };
    let delivery = Arc::new(
        Delivery::new(Arc::clone(&log), subscriptions, DeliverySettings::default()).await?,
    );
    let task = delivery.spawn();
    let start_positions: Vec<u64> = delivery
        .status()
        .await?
        .iter()
        .map(|s| s.position)
        .collect();

    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let delivery = Arc::clone(&delivery);
        let sampling = Arc::clone(&sampling);
        tokio::spawn(async move {
            // (when, head, each subscription's position)
            let mut samples: Vec<(Instant, u64, Vec<u64>)> = Vec::new();
            while sampling.load(Ordering::Relaxed) {
                if let Ok(status) = delivery.status().await {
                    let head = status.iter().map(|s| s.position + s.lag).max().unwrap_or(0);
                    samples.push((
                        Instant::now(),
                        head,
                        status.iter().map(|s| s.position).collect(),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            samples
        })
    };
    let (tally, elapsed) = drive(
        Arc::clone(&library) as Arc<dyn LoadTarget>,
        clients,
        seconds,
        None,
        "subscribed",
    )
    .await;
    let subscribed = tally.latencies.len() as f64 / elapsed.as_secs_f64();
    // Let the subscriptions catch up with the last commands before sampling stops.
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_secs(30) {
        let status = delivery.status().await?;
        if status.iter().all(|s| s.lag == 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sampling.store(false, Ordering::Relaxed);
    let samples = sampler.await?;
    let status = delivery.status().await?;
    task.abort();
    receiver.abort();

    println!("## {backend:?}: {clients} clients, {seconds} s per run");
    println!("| run | commands/s | / without subscriptions |");
    println!("|---|---:|---:|");
    println!("| no subscription (baseline) | {bare:.0} | 1.00 |");
    println!(
        "| webhook + JetStream subscribed | {subscribed:.0} | {:.2} |",
        subscribed / bare
    );
    println!();
    println!(
        "| subscription | events handed over | events/s | lag p50 ms | lag p99 ms | lag max ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (index, now) in status.iter().enumerate() {
        let handed = now.position - start_positions.get(index).copied().unwrap_or(0);
        let lags = lags(&samples, index);
        let pick = |q: f64| -> u128 {
            lags.get(((lags.len() as f64 - 1.0) * q).round() as usize)
                .map_or(0, Duration::as_millis)
        };
        let extra = if now.name == "load-webhook" {
            format!(" ({} requests)", received.load(Ordering::Relaxed))
        } else {
            String::new()
        };
        println!(
            "| {}{extra} | {handed} | {:.0} | {} | {} | {} |",
            now.name,
            handed as f64 / elapsed.as_secs_f64(),
            pick(0.5),
            pick(0.99),
            lags.last().map_or(0, Duration::as_millis)
        );
    }
    if let Some((context, stream)) = stream {
        let mut handle = context.get_stream(&stream).await?;
        println!(
            "\nJetStream stream: {} messages",
            handle.info().await?.state.messages
        );
        context.delete_stream(&stream).await?;
    }
    Ok(())
}

/// For each sample, how long ago the log's head first reached the position subscription
/// `index` had handed over by then: the delivery lag at that moment, sorted ascending.
fn lags(samples: &[(Instant, u64, Vec<u64>)], index: usize) -> Vec<Duration> {
    let mut lags: Vec<Duration> = samples
        .iter()
        .filter_map(|(when, head, positions)| {
            let position = *positions.get(index)?;
            if position >= *head {
                return Some(Duration::ZERO);
            }
            // The first sample whose head had passed the next event not yet handed over.
            let first = samples
                .iter()
                .find(|(_, seen, _)| *seen > position)
                .map(|(at, _, _)| *at)?;
            Some(when.saturating_duration_since(first))
        })
        .collect();
    lags.sort_unstable();
    lags
}
