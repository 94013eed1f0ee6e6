//! The Lambda function: `iamctl-lambda`, built with `--features lambda` (see `iamctl::lambda`).

use iamctl::lambda::{Handler, LambdaConfig};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "iamctl=info".into()),
        )
        .without_time()
        .with_writer(std::io::stderr)
        .init();
    let handler = Handler::load(&LambdaConfig::from_env()?).await?;
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler.handle(event.payload).await.map_err(Error::from)
    }))
    .await
}
