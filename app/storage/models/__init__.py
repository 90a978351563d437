"""Tables, one module per area. Import an area's module to use its tables; migrations never import them."""
