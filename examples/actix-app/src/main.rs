//! `cargo run -p actix-app`: the actix-web example app on `127.0.0.1:3001` (or `ADDR`), with a
//! SQLite file in the working directory (or `DATABASE_URL`). See the crate docs of `actix_app`.

use clab_keys_example_common::{Config, exit_with_error, init_tracing};

fn main() {
    // Also forwards actix-web's `log` records (the request log) to the subscriber.
    init_tracing();
    let config = Config::from_env_or_exit(actix_app::DEFAULT_ADDR);
    if let Err(e) = actix_web::rt::System::new().block_on(actix_app::run(config)) {
        exit_with_error(actix_app::APP_NAME, &e, 1);
    }
}
