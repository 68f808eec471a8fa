//! Operators signing in with an OpenID Connect provider: the adapter against a real provider
//! on loopback (discovery, keys, rotation, outage), and the server taking its tokens on the
//! operators' API beside operator tokens.

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arcade_domain::ports::OperatorIdentity;
use arcade_oidc::{OidcOperators, OidcSettings};
use arcade_testkit::identity::{Provider, sign, signing_key, with};
use arcade_testkit::spawn_app_with;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::admin::{admin_get, admin_post};

fn operators(p: &Provider, role: Option<&str>) -> OidcOperators {
    OidcOperators::new(OidcSettings {
        issuer: url::Url::parse(&p.issuer).unwrap(),
        audience: "arcade".into(),
        name_claim: "preferred_username".into(),
        role_claim: "groups".into(),
        role: role.map(str::to_owned),
    })
    .unwrap()
}

#[tokio::test]
async fn a_token_of_the_provider_for_the_audience_with_the_role_names_its_operator() {
    let p = Provider::start().await;
    let key = p.publish("k1");
    let ops = operators(&p, Some("arcade-operators"));
    let token = sign(&key, &p.claims());
    assert_eq!(ops.verify(&token).await.unwrap().as_deref(), Some("ann"));
    let without_name = p.claims().as_object().unwrap().clone();
    let mut without_name = Value::Object(without_name);
    without_name
        .as_object_mut()
        .unwrap()
        .remove("preferred_username");
    assert_eq!(
        ops.verify(&sign(&key, &without_name))
            .await
            .unwrap()
            .as_deref(),
        Some("u-123"),
        "the subject names an operator without the name claim"
    );
    let groups_as_words = with(p.claims(), "groups", json!("staff arcade-operators"));
    assert!(
        ops.verify(&sign(&key, &groups_as_words))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        p.published.fetched.load(Ordering::SeqCst),
        1,
        "keys are kept"
    );
}

#[tokio::test]
async fn tokens_for_others_expired_forged_or_without_the_role_are_refused() {
    let p = Provider::start().await;
    let key = p.publish("k1");
    let ops = operators(&p, Some("arcade-operators"));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let refused = [
        (
            "another audience",
            sign(&key, &with(p.claims(), "aud", json!("shop"))),
        ),
        (
            "another issuer",
            sign(&key, &with(p.claims(), "iss", json!("http://evil"))),
        ),
        (
            "expired",
            sign(&key, &with(p.claims(), "exp", json!(now - 600))),
        ),
        (
            "not yet valid",
            sign(&key, &with(p.claims(), "nbf", json!(now + 600))),
        ),
        (
            "without the role",
            sign(&key, &with(p.claims(), "groups", json!(["staff"]))),
        ),
        (
            "signed with a key the provider never published",
            sign(&("k1".to_owned(), signing_key()), &p.claims()),
        ),
        (
            "signed with a shared secret",
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &p.claims(),
                &EncodingKey::from_secret(b"arcade").unwrap(),
            )
            .unwrap(),
        ),
        ("not a token", "a.b.c".to_owned()),
    ];
    for (why, token) in refused {
        assert_eq!(ops.verify(&token).await.unwrap(), None, "{why}");
    }
    let any_role = operators(&p, None);
    let token = sign(&key, &with(p.claims(), "groups", json!(["staff"])));
    assert!(
        any_role.verify(&token).await.unwrap().is_some(),
        "without a configured role, the audience is enough"
    );
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_and_made_up_keys_do_not_hammer_the_provider() {
    let p = Provider::start().await;
    let first = p.publish("k1");
    let ops = operators(&p, None).refetching_after(Duration::from_secs(1));
    assert!(
        ops.verify(&sign(&first, &p.claims()))
            .await
            .unwrap()
            .is_some()
    );
    let second = p.publish("k2");
    assert_eq!(
        ops.verify(&sign(&second, &p.claims())).await.unwrap(),
        None,
        "right after a fetch, an unknown key waits"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(
        ops.verify(&sign(&second, &p.claims()))
            .await
            .unwrap()
            .is_some(),
        "a key published since is fetched"
    );
    assert_eq!(p.published.fetched.load(Ordering::SeqCst), 2);
    for _ in 0..5 {
        let made_up = sign(&("k9".to_owned(), signing_key()), &p.claims());
        assert_eq!(ops.verify(&made_up).await.unwrap(), None);
    }
    assert_eq!(
        p.published.fetched.load(Ordering::SeqCst),
        2,
        "unknown keys wait for the next fetch"
    );
}

#[tokio::test]
async fn an_unreachable_provider_is_an_outage_and_kept_keys_still_verify() {
    let p = Provider::start().await;
    let key = p.publish("k1");
    let ops = operators(&p, None);
    p.published.down.store(true, Ordering::SeqCst);
    let e = ops.verify(&sign(&key, &p.claims())).await.unwrap_err();
    assert_eq!(
        e.kind(),
        arcade_domain::BackendErrorKind::Unavailable,
        "{e}"
    );
    p.published.down.store(false, Ordering::SeqCst);
    let fresh = operators(&p, None);
    assert!(
        fresh
            .verify(&sign(&key, &p.claims()))
            .await
            .unwrap()
            .is_some()
    );
    p.published.down.store(true, Ordering::SeqCst);
    assert!(
        fresh
            .verify(&sign(&key, &p.claims()))
            .await
            .unwrap()
            .is_some(),
        "the kept keys verify while the provider is away"
    );
}

#[tokio::test]
async fn a_provider_calling_itself_by_another_name_is_not_believed() {
    let p = Provider::start().await;
    let key = p.publish("k1");
    *p.published.issuer.lock().unwrap() = format!("{}/elsewhere", p.issuer);
    let ops = operators(&p, None);
    let e = ops.verify(&sign(&key, &p.claims())).await.unwrap_err();
    assert!(e.to_string().contains("not the configured issuer"), "{e}");
}

/// A server taking the provider's tokens whose `groups` hold `arcade-operators`.
async fn server_with(p: &Provider) -> arcade_testkit::TestApp {
    spawn_app_with(&[
        "--oidc-issuer",
        &p.issuer,
        "--oidc-audience",
        "arcade",
        "--oidc-role",
        "arcade-operators",
    ])
    .await
}

#[tokio::test]
async fn the_providers_operators_use_the_admin_api_and_are_audited_under_their_name() {
    let p = Provider::start().await;
    let key = p.publish("k1");
    let app = server_with(&p).await;
    let token = sign(&key, &p.claims());
    let me = admin_get(&app, "/api/admin/me", &token).await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.headers()["cache-control"], "no-store");
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["name"], "oidc:ann");

    let (status, _, _, _) = app.play_game("egg-catcher", "Spammer", None, 60).await;
    assert_eq!(status, StatusCode::OK);
    let status = admin_post(
        &app,
        "/api/admin/players/Spammer/hide",
        &token,
        json!({"reason": "spam"}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let log: Value = admin_get(&app, "/api/admin/audit?limit=1", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(log["entries"][0]["action"], "player_hidden");
    assert_eq!(log["entries"][0]["actor"], "oidc:ann");

    let not_an_operator = sign(&key, &with(p.claims(), "groups", json!(["players"])));
    let refused = admin_get(&app, "/api/admin/me", &not_an_operator).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.headers()["www-authenticate"],
        "Bearer realm=\"arcade-admin\""
    );
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["type"], "operator_unauthorized");
}

#[tokio::test]
async fn an_unreachable_provider_answers_503_and_operator_tokens_still_work() {
    let p = Provider::start().await;
    let key = p.publish("k1");
    p.published.down.store(true, Ordering::SeqCst);
    let app = server_with(&p).await;
    let refused = admin_get(&app, "/api/admin/me", &sign(&key, &p.claims())).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let own = crate::admin::operator_token(&app, "bob");
    let me = admin_get(&app, "/api/admin/me", &own).await;
    assert_eq!(
        me.status(),
        StatusCode::OK,
        "operator tokens need no provider"
    );
}

#[tokio::test]
async fn without_a_provider_identity_tokens_open_nothing() {
    let p = Provider::start().await;
    let key = p.publish("k1");
    let app = arcade_testkit::spawn_app().await;
    let refused = admin_get(&app, "/api/admin/me", &sign(&key, &p.claims())).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(p.published.fetched.load(Ordering::SeqCst), 0);
}
