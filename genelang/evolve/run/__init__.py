"""A run directory: the results database (`store`), resume and identity
(`runlock`, `identity`), what a finished search writes (`outputs`, `best`,
`retrain_top`), and reading a run back (`runs`, `status`)."""
