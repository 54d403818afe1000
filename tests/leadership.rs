//! Several service instances on one PostgreSQL database: all take commands, one leads the
//! background work, and when the leader is killed another takes over within seconds, nothing
//! acknowledged lost and every read model equal to a rebuild. `cargo test failover` runs this.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use suspense_tests::app::{assert_consistent, booking, spawn_app, token, Instance, TestApp};
use suspense_tests::Backend;
use tokio::sync::Mutex;

/// How long a survivor may take to lead after the leader dies: the lease goes with the dead
/// leader's session, and the others ask every two seconds.
const TAKEOVER: Duration = Duration::from_secs(15);

async fn readiness(client: &reqwest::Client, base: &str) -> Option<Value> {
    let response = client.get(format!("{base}/readyz")).send().await.ok()?;
    response.json().await.ok()
}

/// The base URLs among `bases` whose instance says it leads.
async fn leaders(client: &reqwest::Client, bases: &[String]) -> Vec<String> {
    let mut leading = Vec::new();
    for base in bases {
        if let Some(ready) = readiness(client, base).await {
            if ready["leader"] == true {
                leading.push(base.clone());
            }
        }
    }
    leading
}

/// Waits until exactly one of `bases` leads, and returns it with how long it took.
async fn one_leader(client: &reqwest::Client, bases: &[String]) -> (String, Duration) {
    let started = Instant::now();
    loop {
        let leading = leaders(client, bases).await;
        assert!(leading.len() <= 1, "two leaders at once: {leading:?}");
        if let [leader] = leading.as_slice() {
            return (leader.clone(), started.elapsed());
        }
        assert!(
            started.elapsed() < TAKEOVER,
            "no instance of {bases:?} took the lead within {TAKEOVER:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Clients opening items on every instance in `bases` until stopped; the ids acknowledged.
fn load(
    bases: Arc<Mutex<Vec<String>>>,
    acknowledged: Arc<Mutex<Vec<String>>>,
    run: &'static str,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        for n in 0.. {
            let targets = bases.lock().await.clone();
            for (i, base) in targets.iter().enumerate() {
                let response = client
                    .post(format!("{base}/v1/items"))
                    .bearer_auth(token("olivia"))
                    .json(&booking(&format!("LEAD-{run}-{n}-{i}"), "5.00"))
                    .send()
                    .await;
                // A killed instance refuses the connection: that is not an acknowledgement.
                if let Ok(response) = response {
                    if response.status() == 201 {
                        let body: Value = response.json().await.unwrap_or_default();
                        if let Some(id) = body["id"].as_str() {
                            acknowledged.lock().await.push(id.to_owned());
                        }
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
}

fn base_of(app: &TestApp) -> String {
    app.url("")
}

fn base_of_instance(instance: &Instance) -> String {
    instance.url("")
}

#[tokio::test]
async fn failover_replaces_a_killed_leader_and_loses_nothing_acknowledged() {
    let client = reqwest::Client::new();
    let mut app = spawn_app(Backend::Postgres).await;
    let mut others = [app.another_instance().await, app.another_instance().await];
    let mut bases: Vec<String> = std::iter::once(base_of(&app))
        .chain(others.iter().map(base_of_instance))
        .collect();
    let (first, _) = one_leader(&client, &bases).await;
    assert_eq!(first, base_of(&app), "the first instance started leads");

    let targets = Arc::new(Mutex::new(bases.clone()));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let writers = load(Arc::clone(&targets), Arc::clone(&acknowledged), "a");
    tokio::time::sleep(Duration::from_secs(2)).await;

    // The first leader dies: one of the other two takes over.
    app.kill9().await;
    bases.retain(|b| *b != first);
    *targets.lock().await = bases.clone();
    let (second, took) = one_leader(&client, &bases).await;
    println!("first takeover in {took:?}");
    tokio::time::sleep(Duration::from_secs(2)).await;

    // The first instance comes back as a follower; then the second leader dies too.
    app.restart().await;
    bases.push(base_of(&app));
    *targets.lock().await = bases.clone();
    let (still, _) = one_leader(&client, &bases).await;
    assert_eq!(
        still, second,
        "a returning instance does not take the lead from a live one"
    );
    let index = others
        .iter()
        .position(|o| base_of_instance(o) == second)
        .unwrap_or_else(|| panic!("the second leader is one of the others"));
    others[index].kill9().await;
    bases.retain(|b| *b != second);
    *targets.lock().await = bases.clone();
    let (third, took) = one_leader(&client, &bases).await;
    println!("second takeover in {took:?}");
    assert_ne!(third, second);
    tokio::time::sleep(Duration::from_secs(2)).await;
    writers.abort();

    // Every acknowledged item is in the register, read fresh from any instance.
    let acknowledged = acknowledged.lock().await.clone();
    assert!(
        acknowledged.len() > 20,
        "the load ran: {}",
        acknowledged.len()
    );
    for base in &bases {
        // Caught up on this instance, whether it leads or not.
        let caught_up = client
            .get(format!("{base}/v1/reports/open-balance?fresh=true"))
            .bearer_auth(token("rita"))
            .send()
            .await
            .map(|r| r.status());
        assert_eq!(caught_up.ok(), Some(reqwest::StatusCode::OK), "{base}");
        let registered = register_ids(&client, base).await;
        let missing: Vec<&String> = acknowledged
            .iter()
            .filter(|id| !registered.contains(*id))
            .collect();
        assert!(missing.is_empty(), "{base} misses {missing:?}");
    }
    assert_consistent(&app).await;
}

/// Every item id in the register of the instance at `base`.
async fn register_ids(client: &reqwest::Client, base: &str) -> std::collections::HashSet<String> {
    let mut ids = std::collections::HashSet::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = format!("{base}/v1/items?limit=500");
        if let Some(after) = &after {
            url.push_str(&format!("&after={after}"));
        }
        let page: Value = client
            .get(url)
            .bearer_auth(token("ada"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .json()
            .await
            .unwrap_or_default();
        for item in page["items"].as_array().into_iter().flatten() {
            if let Some(id) = item["item_id"].as_str() {
                ids.insert(id.to_owned());
            }
        }
        match page["next_after"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => return ids,
        }
    }
}
