//! `cargo run -p grpc-app`: the gRPC example app on `127.0.0.1:50051` (or `ADDR`), with a
//! SQLite file in the working directory (or `DATABASE_URL`). See the crate docs of `grpc_app`.

use clab_keys_example_common::{Config, exit_with_error, init_tracing};

#[tokio::main]
async fn main() {
    init_tracing();
    let config = Config::from_env_or_exit(grpc_app::DEFAULT_ADDR);
    if let Err(e) = grpc_app::run(config).await {
        exit_with_error(grpc_app::APP_NAME, &e, 1);
    }
}
