use crate::helpers::{assert_problem, iso_date, spawn_app};

#[tokio::test]
async fn lists_assets_with_ranges() {
    let app = spawn_app().await;
    let v: serde_json::Value = app.get("/v1/assets").await.json().await.unwrap();
    let a = v.as_array().unwrap();
    assert_eq!(a.len(), 2);
    assert_eq!(a[0]["symbol"], "AAA");
    assert_eq!(a[0]["observations"], 701);
    assert_eq!(a[0]["first_date"], iso_date(0));
    assert_eq!(a[0]["last_date"], iso_date(700));
}

#[tokio::test]
async fn history_is_aligned_and_limited() {
    let app = spawn_app().await;
    let v: serde_json::Value = app
        .get("/v1/assets/BBB/history?model=gjr&dist=t")
        .await
        .json()
        .await
        .unwrap();
    let n = v["dates"].as_array().unwrap().len();
    assert_eq!(n, 700);
    assert_eq!(v["returns"].as_array().unwrap().len(), n);
    assert_eq!(v["conditional_volatility"].as_array().unwrap().len(), n);
    assert_eq!(v["realized_volatility"].as_array().unwrap().len(), n);
    assert!(
        v["conditional_volatility"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x.as_f64().unwrap() > 0.0)
    );
    let v: serde_json::Value = app
        .get("/v1/assets/bbb/history?limit=5")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["dates"].as_array().unwrap().len(), 5);
    assert_eq!(v["dates"][4], iso_date(700));
    assert_problem(
        app.get("/v1/assets/BBB/history?limit=0").await,
        400,
        Some("limit"),
    )
    .await;
    assert_problem(
        app.get("/v1/assets/BBB/history?limit=x").await,
        400,
        Some("limit"),
    )
    .await;
    assert_problem(app.get("/v1/assets/ZZZ/history").await, 404, Some("symbol")).await;
}
