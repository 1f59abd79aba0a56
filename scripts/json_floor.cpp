// The floor for the json kernel: simdjson, the fastest validating JSON parser we know of,
// parsing the same file on the same machine (issue 28). Not part of the build or the tests.
//
//   apt-get install libsimdjson-dev     # Debian's simdjson 3.0.1 (runtime-dispatched kernels)
//   g++ -O2 -std=c++17 scripts/json_floor.cpp -lsimdjson -o /tmp/json_floor
//   python -c "import hybridbench; open('/tmp/json_1MB.json', 'wb').write(hybridbench.make_input('json', '1MB'))"
//   /tmp/json_floor /tmp/json_1MB.json [ITERATIONS]
//
// Prints the minimum and median of each pass in ms:
// * "dom parse": the whole document validated (UTF-8, grammar) and every value, numbers
//   included, written to simdjson's tape. The kernel does this much and more: it also
//   keeps the spans it copies, checks the schema, transforms, sorts and serialises.
// * "stage 1 alone": its SIMD pass over the bytes (UTF-8 check, string and structural
//   bitmasks, the index of every structural character), through its internal per-CPU parser
//   interface: how much of the parse that pass is, and so what a stage 2 has left to spend.
// * "on-demand qty*price": only the orders' items' qty and price read, the rest of each
//   order skipped without validation. Less than the kernel must do (it must reject any
//   invalid byte anywhere), so a bound nobody validating can reach.
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

template <class F>
static void bench(const char* name, int iterations, F pass) {
    std::vector<double> ms;
    for (int i = 0; i < iterations; i++) {
        auto t0 = std::chrono::steady_clock::now();
        pass();
        auto t1 = std::chrono::steady_clock::now();
        ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%22s: min %8.3f ms  median %8.3f ms\n", name, ms[0], ms[ms.size() / 2]);
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: json_floor FILE [ITERATIONS]\n");
        return 2;
    }
    int iterations = argc > 2 ? std::atoi(argv[2]) : 300;
    simdjson::padded_string json = simdjson::padded_string::load(argv[1]);
    std::printf("simdjson %s, kernel %s, %zu bytes\n", SIMDJSON_STRINGIFY(SIMDJSON_VERSION),
                simdjson::get_active_implementation()->name().c_str(), json.size());
    simdjson::dom::parser dom;
    bench("dom parse", iterations, [&] {
        simdjson::dom::element root;
        if (dom.parse(json).get(root)) std::abort();
    });
    std::unique_ptr<simdjson::internal::dom_parser_implementation> stages;
    if (simdjson::get_active_implementation()->create_dom_parser_implementation(
            json.size(), simdjson::DEFAULT_MAX_DEPTH, stages)) {
        std::abort();
    }
    bench("stage 1 alone", iterations, [&] {
        auto bytes = reinterpret_cast<const uint8_t*>(json.data());
        if (stages->stage1(bytes, json.size(), simdjson::stage1_mode::regular)) std::abort();
    });
    simdjson::ondemand::parser ondemand;
    bench("on-demand qty*price", iterations, [&] {
        auto doc = ondemand.iterate(json);
        double sum = 0;
        for (auto order : doc["orders"].get_array()) {
            for (auto item : order["items"].get_array()) {
                sum += double(item["qty"].get_double()) * double(item["price"].get_double());
            }
        }
        if (sum == 0) std::abort();
    });
}
