-- POST /book with a JSON body; Basic auth comes from wrk's -H option.
wrk.method = "POST"
wrk.body = '{"title":"Benchmark Book","author":"wrk","year":2024}'
wrk.headers["Content-Type"] = "application/json"
