// The nats connector in the compiler (LANGUAGE.md 9.1): its arguments, the subject lambda
// of a sink checked against the element type, the message's subject and sequence as record
// fields, what is not supported yet. Runtime behaviour: test/nats.test.ts.

import { describe, expect, it } from "vitest";
import { diagnose } from "./helpers.js";

const job = (source: string, sink = 'sink orders -> stdout()', more = "") => `job n\ntype Order = { id: int, region: string, seq: int }\nsource orders: Order = ${source}\n${sink}\n${more}`;

describe("the nats connector", () => {
  it("accepts a source with every option and a sink whose subject is a lambda of the element", () => {
    expect(diagnose(job('nats("orders.>", stream: "ORDERS", format: "json", until: "end", on_error: "skip", create: true, url: "nats://127.0.0.1:4222", subject_field: "region", sequence_field: "seq")', 'sink orders -> nats(o => "alerts." + o.region, stream: "ALERTS")'))).toBe("");
  });

  it("needs a stream", () => {
    expect(diagnose(job('nats("orders.>")'))).toContain("error[FLOW4008]: nats(…) needs the argument `stream`");
  });

  it("checks the sink's subject lambda against the element type: a missing field and a result that is not a string", () => {
    expect(diagnose(job('nats("o.>", stream: "O")', 'sink orders -> nats(o => "a." + o.country, stream: "A")'))).toContain("error[FLOW2007]: Order has no field `country`");
    expect(diagnose(job('nats("o.>", stream: "O")', 'sink orders -> nats(o => o.id, stream: "A")'))).toMatch(/error\[FLOW3001\]: .*expected string, found int/);
  });

  it("refuses create: true on a sink whose subject is computed per record", () => {
    expect(diagnose(job('nats("o.>", stream: "O")', 'sink orders -> nats(o => "a." + o.region, stream: "A", create: true)'))).toContain("error[FLOW4008]: `create: true` needs a fixed subject");
  });

  it("refuses subjects, stream names and URLs that cannot work, and credentials in the URL", () => {
    expect(diagnose(job('nats("orders..x", stream: "O")'))).toContain('error[FLOW4008]: "orders..x" is not a NATS subject filter');
    expect(diagnose(job('nats("o.>", stream: "O")', 'sink orders -> nats("a.*", stream: "A")'))).toContain('error[FLOW4008]: "a.*" is not a NATS subject to publish to');
    expect(diagnose(job('nats("o.>", stream: "MY.STREAM")'))).toContain('error[FLOW4008]: "MY.STREAM" is not a JetStream stream name');
    expect(diagnose(job('nats("o.>", stream: "O", url: "nats://me:secret@host:4222")'))).toContain("error[FLOW4008]: credentials do not go in a .flow file");
  });

  it("checks subject_field and sequence_field against the record type", () => {
    expect(diagnose(job('nats("o.>", stream: "O", subject_field: "nope")'))).toContain("error[FLOW4008]: the record type has no field `nope` for `subject_field:`");
    expect(diagnose(job('nats("o.>", stream: "O", sequence_field: "region")'))).toContain("error[FLOW3001]: `sequence_field:` fills field `region` with the message's stream sequence, an int, but the field is string");
  });

  it("format text carries strings only", () => {
    expect(diagnose(job('nats("o.>", stream: "O", format: "text")'))).toContain('error[FLOW3013]: format "text" carries each message as a string');
  });

  it("partitions: reads subjects whose last token is the partition (FLOW4030 otherwise)", () => {
    expect(diagnose(job('nats("o.*", stream: "O", partitions: 4)'))).toBe("");
    expect(diagnose(job('nats("o.>", stream: "O", partitions: 4)'))).toContain("error[FLOW4030]: a partitioned source reads subjects whose last token is a partition number");
    expect(diagnose(job('nats("o.*", stream: "O", partitions: 0)'))).toContain("error[FLOW4030]: `partitions:` must be a count from 1 to 65536, not 0");
    expect(diagnose(job('nats("o.*", stream: "O", partitions: 4, partition_key: o => o.region)'))).toBe("");
    expect(diagnose(job('nats("o.*", stream: "O", partition_key: o => o.region)'))).toContain("error[FLOW4030]: `partition_key:` says how a partitioned source's records were put into partitions");
    expect(diagnose(job('nats("o.*", stream: "O", partitions: 4, partition_key: o => o.nope)'))).toContain("error[FLOW");
  });

  it("storage \"nats:<bucket>\" needs a bucket name", () => {
    expect(diagnose(job('nats("o.>", stream: "O")', "sink orders -> stdout()", 'checkpoint { storage "nats:my bucket" }\n'))).toContain('error[FLOW4003]: "nats:my bucket" does not name a NATS object store bucket');
    expect(diagnose(job('nats("o.>", stream: "O")', "sink orders -> stdout()", 'checkpoint { storage "nats:ckpt" }\n'))).toBe("");
  });
});
