//! Subscriptions and their checkpoints on both backends: where a new subscription starts,
//! that a known one keeps its place when the service starts again, an operator's replay, and
//! subscriptions added and removed while the deliverers run.

use std::sync::Arc;

use suspense_delivery::{
    Delivery, DeliveryError, DeliverySettings, EventFilter, JetStreamSubject, NatsServer, Origin,
    StartAt, Subscription, SubscriptionName, SubscriptionSpec, Target, WebhookSecret, WebhookUrl,
};
use suspense_domain::{ItemAction, ItemCommand, ItemId};
use suspense_store::{EventLog, RequestMetadata, StoreLocation};
use suspense_testkit::{booking, fixed_services, on_both_backends, user, Backend, TestDatabase};

fn subscription(name: &str, start: StartAt) -> Subscription {
    Subscription {
        name: SubscriptionName::parse(name).expect("name"),
        filter: EventFilter::default(),
        target: Target::Webhook {
            url: WebhookUrl::parse("http://127.0.0.1:9/hooks").expect("url"),
            secret: WebhookSecret::parse("a-webhook-secret-of-32-bytes-or-more").expect("secret"),
        },
        start,
        max_attempts: 3,
    }
}

/// The log of a test's database.
async fn log_on(db: &TestDatabase) -> Arc<EventLog> {
    let location = StoreLocation::parse(&db.url()).expect("location");
    Arc::new(
        EventLog::open(&location, fixed_services(), &Default::default())
            .await
            .expect("log"),
    )
}

/// Opens an item and waits until the log has given its event a position (on PostgreSQL
/// positions come a moment after the commit).
async fn open(log: &EventLog, reference: &str) {
    let item = booking(reference, "10.00");
    log.execute(
        ItemId::for_reference(&item.reference),
        ItemCommand::new(user("teller"), ItemAction::Open(item)),
        &RequestMetadata::default(),
        None,
    )
    .await
    .expect("opened");
    log.settle(std::time::Duration::from_secs(30))
        .await
        .expect("positioned");
}

async fn new_subscriptions_start_where_they_say_and_keep_their_place(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let log = log_on(&db).await;
    for n in 0..3 {
        open(&log, &format!("CHK-{n}")).await;
    }
    let subscriptions = vec![
        subscription("warehouse", StartAt::Beginning),
        subscription("gateway", StartAt::Now),
    ];
    let settings = DeliverySettings::default();
    let delivery = Delivery::new(Arc::clone(&log), subscriptions.clone(), settings)
        .await
        .expect("delivery");
    let places = |status: Vec<suspense_delivery::SubscriptionStatus>| {
        status
            .into_iter()
            .map(|s| (s.name, s.position, s.lag))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        places(delivery.status().await.expect("status")),
        vec![("warehouse".into(), 0, 3), ("gateway".into(), 3, 0)]
    );

    // Started again with more in the log: the known subscriptions keep their place.
    open(&log, "CHK-LATER").await;
    let again = Delivery::new(Arc::clone(&log), subscriptions, settings)
        .await
        .expect("delivery");
    assert_eq!(
        places(again.status().await.expect("status")),
        vec![("warehouse".into(), 0, 4), ("gateway".into(), 3, 1)]
    );

    // A replay puts a subscription back to any position; an unknown one is refused.
    again.resume("gateway", Some(1)).await.expect("resumed");
    assert_eq!(again.status().await.expect("status")[1].position, 1);
    assert!(again.resume("nobody", None).await.is_err());
}
on_both_backends!(
    new_subscriptions_start_where_they_say_and_keep_their_place,
    super::new_subscriptions_start_where_they_say_and_keep_their_place
);

/// Events the filter leaves out move the checkpoint on without the target, even while the
/// target is away (nothing listens on the NATS port here).
async fn filtered_out_events_pass_while_the_target_is_away(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let log = log_on(&db).await;
    for n in 0..3 {
        open(&log, &format!("SKIP-{n}")).await;
    }
    let subscription = Subscription {
        name: SubscriptionName::parse("escalations").expect("name"),
        filter: EventFilter::parse(&["Escalated".into()], &[]).expect("filter"),
        target: Target::JetStream {
            server: NatsServer::parse("127.0.0.1:9").expect("server"),
            subject: JetStreamSubject::parse("bank.suspense.events").expect("subject"),
        },
        start: StartAt::Beginning,
        max_attempts: 1,
    };
    let settings = DeliverySettings {
        poll: std::time::Duration::from_millis(20),
        ..DeliverySettings::default()
    };
    let delivery = Arc::new(
        Delivery::new(Arc::clone(&log), vec![subscription], settings)
            .await
            .expect("delivery"),
    );
    let task = delivery.spawn();
    let mut status = Vec::new();
    for _ in 0..100 {
        status = delivery.status().await.expect("status");
        if status[0].position == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    task.abort();
    assert_eq!(status[0].position, 3, "{status:?}");
    assert_eq!(status[0].delivered, 0);
    assert!(status[0].parked_at.is_none(), "{status:?}");
}
on_both_backends!(
    filtered_out_events_pass_while_the_target_is_away,
    super::filtered_out_events_pass_while_the_target_is_away
);

/// A subscription that starts now starts after every event committed before it, even when
/// more are waiting for their position than the log positions in one go (copies of a booked
/// event, written past the application, stand in for a burst of commands).
async fn a_subscription_starting_now_starts_after_a_burst_of_commits(backend: Backend) {
    const BURST: u64 = 12_000;
    let db = TestDatabase::create(backend).await;
    let log = log_on(&db).await;
    open(&log, "BURST-0").await;
    let copied = db
        .execute(
            &format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {BURST})
                 INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                     event_version, payload, metadata)
                 SELECT aggregate_type, aggregate_id || '-' || i, sequence, event_type,
                        event_version, payload, metadata
                   FROM events, n"
            ),
            false,
        )
        .await
        .expect("burst written");
    assert_eq!(copied, BURST);
    let delivery = Delivery::new(
        Arc::clone(&log),
        vec![subscription("gateway", StartAt::Now)],
        DeliverySettings::default(),
    )
    .await
    .expect("delivery");
    let status = delivery.status().await.expect("status");
    assert_eq!((status[0].position, status[0].lag), (BURST + 1, 0));
}
on_both_backends!(
    a_subscription_starting_now_starts_after_a_burst_of_commits,
    super::a_subscription_starting_now_starts_after_a_burst_of_commits
);

/// A subscription as a supervisor asks for it: JetStream on a port nothing listens on, taking
/// only escalations, so that the booked items' events pass without the target.
fn escalations_spec(name: &str, start: &str) -> SubscriptionSpec {
    SubscriptionSpec {
        name: name.into(),
        event_types: vec!["Escalated".into()],
        nats_server: Some("127.0.0.1:9".into()),
        jetstream_subject: Some("bank.suspense.events".into()),
        start: Some(start.into()),
        ..SubscriptionSpec::default()
    }
}

async fn subscriptions_added_and_removed_while_delivering(backend: Backend) {
    let db = TestDatabase::create(backend).await;
    let log = log_on(&db).await;
    open(&log, "ADD-0").await;
    open(&log, "ADD-1").await;
    let settings = DeliverySettings {
        poll: std::time::Duration::from_millis(20),
        reload: std::time::Duration::from_millis(20),
        ..DeliverySettings::default()
    };
    let delivery = Arc::new(
        Delivery::new(
            Arc::clone(&log),
            vec![subscription("gateway", StartAt::Now)],
            settings,
        )
        .await
        .expect("delivery"),
    );
    let task = delivery.spawn();
    let at = suspense_testkit::instant("2026-03-02T09:00:00Z");

    // Added while the deliverers run: kept with who made it, starting where it says.
    let added = delivery
        .add(&escalations_spec("warehouse", "beginning"), "sam", at)
        .await
        .expect("added");
    assert_eq!(added.name.as_str(), "warehouse");
    let status = delivery.status().await.expect("status");
    assert_eq!(status.len(), 2);
    assert_eq!(status[1].name, "warehouse");
    assert_eq!(
        status[1].origin,
        Origin::Api {
            by: "sam".into(),
            at
        }
    );
    assert_eq!(status[1].subscription, added);

    // The delivering task picks it up: the filter passes every booking, target or not.
    open(&log, "ADD-2").await;
    let mut position = 0;
    for _ in 0..250 {
        position = delivery.status().await.expect("status")[1].position;
        if position == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(position, 3, "the new subscription is delivered");

    // Refused, and nothing kept: a name taken (by the API or the configuration), a bad field.
    for name in ["warehouse", "gateway"] {
        let taken = delivery
            .add(&escalations_spec(name, "now"), "sam", at)
            .await;
        assert!(
            matches!(&taken, Err(DeliveryError::NameTaken(n)) if n == name),
            "{taken:?}"
        );
    }
    let mut bad = escalations_spec("audit", "now");
    bad.event_types = vec!["Exploded".into()];
    let refused = delivery.add(&bad, "sam", at).await;
    assert!(
        matches!(&refused, Err(DeliveryError::Invalid(e)) if e.field == "event_types"),
        "{refused:?}"
    );
    bad = escalations_spec("audit", "yesterday");
    let refused = delivery.add(&bad, "sam", at).await;
    assert!(
        matches!(&refused, Err(DeliveryError::Invalid(e)) if e.field == "start"),
        "{refused:?}"
    );
    assert_eq!(delivery.status().await.expect("status").len(), 2);

    // Removed: a configured one is refused, an unknown one is not found.
    assert!(matches!(
        delivery.remove("gateway").await,
        Err(DeliveryError::Configured(_))
    ));
    assert!(matches!(
        delivery.remove("nobody").await,
        Err(DeliveryError::UnknownSubscription(_))
    ));
    delivery.remove("warehouse").await.expect("removed");
    let names: Vec<String> = delivery
        .status()
        .await
        .expect("status")
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, vec!["gateway".to_owned()]);

    // The same name again is a new subscription: its own start, nothing of the old one.
    delivery
        .add(&escalations_spec("warehouse", "now"), "olivia", at)
        .await
        .expect("added again");
    let again = delivery.status().await.expect("status");
    assert_eq!((again[1].position, again[1].delivered), (3, 0));
    task.abort();

    // Another instance (a new `Delivery` on the same database) sees what was added.
    let other = Delivery::new(Arc::clone(&log), Vec::new(), settings)
        .await
        .expect("delivery");
    let seen: Vec<String> = other
        .status()
        .await
        .expect("status")
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(seen, vec!["warehouse".to_owned()]);
}
on_both_backends!(
    subscriptions_added_and_removed_while_delivering,
    super::subscriptions_added_and_removed_while_delivering
);
