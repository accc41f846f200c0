//! gasguard policy plugin in Zig: a team's size budget for the weights,
//! "at most 300 M parameters and under 1 GB in total".
//!
//! Implements wit/gasguard-plugin.wit by hand (the canonical ABI of two
//! string functions is small): `describe() -> string` and
//! `check(facts: string) -> string`, both JSON. Build: ../build.sh.

const std = @import("std");

const max_parameters: i64 = 300_000_000;
const max_bytes: i64 = 1_000_000_000;

const Rule = struct {
    code: []const u8,
    name: []const u8,
    severity: []const u8,
    summary: []const u8,
    docs: []const u8,
};

const Description = struct {
    name: []const u8 = "budget",
    version: []const u8 = "1.0.0",
    rules: []const Rule = &.{
        .{
            .code = "001",
            .name = "too-many-parameters",
            .severity = "error",
            .summary = "the weights hold more than 300 M parameters",
            .docs = "Our serving budget: a model of at most 300 M parameters, counted over every safetensors file.",
        },
        .{
            .code = "002",
            .name = "weights-too-large",
            .severity = "error",
            .summary = "the weights are 1 GB or more",
            .docs = "Our upload budget: the safetensors files' tensor data must stay under 1 GB (10^9 bytes).",
        },
    },
};

const Diagnostic = struct {
    code: []const u8,
    message: []const u8,
    help: []const u8,
    file: ?[]const u8,
};

const Output = struct { diagnostics: []const Diagnostic };

/// Everything a call allocates; a fresh instance serves each call, so it
/// is never freed.
const gpa = std.heap.wasm_allocator;

/// The canonical ABI returns a string as (pointer, length) in memory.
var ret_area: [2]u32 align(4) = .{ 0, 0 };

fn give(text: []const u8) *[2]u32 {
    ret_area = .{ @intCast(@intFromPtr(text.ptr)), @intCast(text.len) };
    return &ret_area;
}

fn oom() noreturn {
    @trap();
}

export fn cabi_realloc(old: ?[*]u8, old_len: usize, alignment: usize, new_len: usize) callconv(.c) ?[*]u8 {
    _ = alignment;
    if (new_len == 0) return null;
    const fresh = gpa.alloc(u8, new_len) catch oom();
    if (old) |o| @memcpy(fresh[0..@min(old_len, new_len)], o[0..@min(old_len, new_len)]);
    return fresh.ptr;
}

fn describe() callconv(.c) *[2]u32 {
    const text = std.json.Stringify.valueAlloc(gpa, Description{}, .{}) catch oom();
    return give(text);
}

fn int(v: ?std.json.Value) i64 {
    return if (v) |x| switch (x) {
        .integer => |i| i,
        else => 0,
    } else 0;
}

fn check(ptr: [*]const u8, len: usize) callconv(.c) *[2]u32 {
    const facts = std.json.parseFromSliceLeaky(std.json.Value, gpa, ptr[0..len], .{}) catch oom();
    var parameters: i64 = 0;
    var bytes: i64 = 0;
    var largest: ?[]const u8 = null;
    var largest_bytes: i64 = -1;
    if (facts.object.get("weights")) |weights| for (weights.array.items) |w| {
        const file_bytes = int(w.object.get("total_bytes"));
        parameters += int(w.object.get("parameters"));
        bytes += file_bytes;
        if (file_bytes > largest_bytes) {
            largest_bytes = file_bytes;
            largest = w.object.get("file").?.string;
        }
    };
    var found: [2]Diagnostic = undefined;
    var n: usize = 0;
    if (parameters > max_parameters) {
        found[n] = .{
            .code = "001",
            .message = std.fmt.allocPrint(gpa, "the weights hold {d} parameters; the budget is {d}", .{ parameters, max_parameters }) catch oom(),
            .help = "distil or prune the model, or share weights between layers",
            .file = largest,
        };
        n += 1;
    }
    if (bytes >= max_bytes) {
        found[n] = .{
            .code = "002",
            .message = std.fmt.allocPrint(gpa, "the weights are {d} bytes; the budget is under {d}", .{ bytes, max_bytes }) catch oom(),
            .help = "store the weights in float16 or bfloat16, or shrink the model",
            .file = largest,
        };
        n += 1;
    }
    const text = std.json.Stringify.valueAlloc(gpa, Output{ .diagnostics = found[0..n] }, .{}) catch oom();
    return give(text);
}

comptime {
    @export(&describe, .{ .name = "gasguard:plugin/policy@1.0.0#describe" });
    @export(&check, .{ .name = "gasguard:plugin/policy@1.0.0#check" });
}
