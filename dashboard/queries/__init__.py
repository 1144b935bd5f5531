"""The named SQL of each page, one module per page; every function starts from the viewer's
`ScopedData` (scope, suppression, cache) and returns frames or rows the page only lays out."""
