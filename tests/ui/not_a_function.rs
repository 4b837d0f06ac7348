use centrpc::Router;

fn main() {
    let _ = Router::new(()).rpc("m.value", 42);
}
