// Codec TCK fixtures for the Thrift codec. The generated Java is committed (the build must not need
// the Thrift compiler); regenerate with codecs/thrift/regenerate-test-sources.sh after a change.
namespace java dev.parley.codec.thrift.fixtures

struct Small {
  1: string id,
  2: string name,
  3: i32 quantity,
  4: i64 amountCents,
  5: bool express
}

struct Line {
  1: string sku,
  2: string description,
  3: i32 quantity,
  4: i64 unitCents
}

struct Medium {
  1: string orderId,
  2: string customer,
  3: string address,
  4: list<Line> lines,
  5: string notes
}

struct Node {
  1: string name,
  2: list<Node> children
}

struct Collections {
  1: list<string> tags,
  2: set<i32> codes,
  3: map<string, i64> counts
}

struct WithOptional {
  1: string id,
  2: optional string coupon,
  3: optional i32 tip
}

struct Timestamps {
  1: i64 placedAtEpochMillis,
  2: string deliveryDay,
  3: i64 preparationMillis
}

struct Text {
  1: string id,
  2: string text
}
