//! `my-app docs`: the API reference page (placeholder, filled in below).
