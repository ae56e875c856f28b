// Vector unit: Lanes parallel lanes (one per array column).
//  - Requantization (docs/arithmetic.md section 3), one line per cycle, one cycle latency:
//      y = clamp(((acc + bias) * M + 2^(S-1)) >>> S, lo, hi)
//    acc and bias are AccBits signed, M 32-bit unsigned, S in [1, 126]; the product is exact
//    (AccBits + 34 bits), >>> is an arithmetic shift, so the rounding is half up. The clamp
//    [lo, hi] is saturation and activation in one: lo = relu_i ? 0 : -2^(Bits-1),
//    hi = min(hi_i, 2^(Bits-1) - 1).
//  - Max-pool: a running per-lane signed maximum; pool_first_i starts a new window,
//    pool_max_o is the maximum including the current pool_data_i (combinational).
//  - Residual add (docs/arithmetic.md, nn_requantize_add), one line per two cycles:
//    add_a_valid_i registers operand A from add_data_i; add_b_valid_i takes operand B from
//    add_data_i and registers, one cycle later on rq_valid_o / rq_y_o,
//      y = clamp((A * Ma + B * Mb + 2^(S-1)) >>> S, lo, hi)
//    with per-tensor Ma, Mb (32-bit unsigned) and a shared S in [1, 126]; the products and
//    their sum are exact (Bits + 35 bits), the clamp is the requantization's.
module rtl_vector_unit #(
  parameter int unsigned Lanes   = 2,
  parameter int unsigned Bits    = 8,
  parameter int unsigned AccBits = 32
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  // requantization
  input  logic                    rq_valid_i,
  input  logic [Lanes*AccBits-1:0] rq_acc_i,
  input  logic [Lanes*AccBits-1:0] rq_bias_i,
  input  logic [Lanes*32-1:0]     rq_mult_i,
  input  logic [Lanes*7-1:0]      rq_shift_i,
  input  logic                    rq_relu_i,
  input  logic [31:0]             rq_hi_i,
  output logic                    rq_valid_o,
  output logic [Lanes*Bits-1:0]   rq_y_o,
  // max-pool
  input  logic                    pool_valid_i,
  input  logic                    pool_first_i,
  input  logic [Lanes*Bits-1:0]   pool_data_i,
  output logic [Lanes*Bits-1:0]   pool_max_o,
  // residual add (the clamp is rq_relu_i / rq_hi_i)
  input  logic                    add_a_valid_i,
  input  logic                    add_b_valid_i,
  input  logic [Lanes*Bits-1:0]   add_data_i,
  input  logic [31:0]             add_mult_a_i,
  input  logic [31:0]             add_mult_b_i,
  input  logic [6:0]              add_shift_i
);

  localparam int unsigned SumBits  = AccBits + 1;
  localparam int unsigned ProdBits = SumBits + 33;
  localparam int unsigned RndBits  = ProdBits + 1;
  // add: |A*Ma + B*Mb| < 2^(Bits+32); 2^(S-1) is added only for S <= AddBits - 2
  localparam int unsigned AddBits  = Bits + 35;

`ifndef SYNTHESIS
  if (Lanes < 1 || Lanes > 64) begin : gen_bad_lanes
    $error("rtl_vector_unit: Lanes must lie in [1, 64]");
  end
  if (!(Bits == 4 || Bits == 8 || Bits == 16 || Bits == 32)) begin : gen_bad_bits
    $error("rtl_vector_unit: Bits must be 4, 8, 16 or 32");
  end
  if (AccBits < 2 * Bits || AccBits > 96) begin : gen_bad_acc_bits
    $error("rtl_vector_unit: AccBits must lie in [2*Bits, 96]");
  end
`endif

  logic signed [RndBits-1:0] qmin, qmax, lo, hi, hi_req;
  assign qmin   = -(RndBits'(1) <<< (Bits - 1));
  assign qmax   = (RndBits'(1) <<< (Bits - 1)) - RndBits'(1);
  assign hi_req = RndBits'($signed(rq_hi_i));
  assign lo     = rq_relu_i ? '0 : qmin;
  assign hi     = (hi_req < qmax) ? hi_req : qmax;

  logic [Lanes*Bits-1:0] y_d, y_q, max_q, add_y, add_a_q;
  logic                  valid_q;

  for (genvar l = 0; l < Lanes; l++) begin : gen_lane
    logic signed [SumBits-1:0]  sum;
    logic signed [ProdBits-1:0] prod;
    logic signed [RndBits-1:0]  rnd, shifted_raw, shifted, clamped;
    logic [6:0]                 shift;

    assign shift = rq_shift_i[l*7 +: 7];
    assign sum   = SumBits'($signed(rq_acc_i[l*AccBits +: AccBits]))
                 + SumBits'($signed(rq_bias_i[l*AccBits +: AccBits]));
    assign prod  = ProdBits'(sum) * $signed({1'b0, rq_mult_i[l*32 +: 32]});
    assign rnd   = RndBits'(prod) + (RndBits'(1) << (shift - 7'd1));
    // A shift at or beyond the product's width leaves |prod| < 2^(S-1): the result is 0.
    // (kept as its own signed signal: inside a ?: with an unsigned operand, >>> would not
    // sign-fill)
    assign shifted_raw = rnd >>> shift;
    assign shifted = (32'(shift) >= ProdBits) ? '0 : shifted_raw;
    assign clamped = (shifted < lo) ? lo : ((shifted > hi) ? hi : shifted);
    assign y_d[l*Bits +: Bits] = clamped[Bits-1:0];

    logic signed [Bits-1:0] cur, prev;
    assign cur  = pool_data_i[l*Bits +: Bits];
    assign prev = max_q[l*Bits +: Bits];
    assign pool_max_o[l*Bits +: Bits] = (pool_first_i || cur > prev) ? cur : prev;

    logic unused_clamped;
    assign unused_clamped = ^clamped[RndBits-1:Bits];

    // residual add: both operands Bits signed, multipliers unsigned
    logic signed [AddBits-1:0] add_pa, add_pb, add_sum, add_half, add_sh_raw, add_sh;
    logic signed [RndBits-1:0] add_wide, add_clamped;
    assign add_pa   = AddBits'($signed(add_a_q[l*Bits +: Bits])) * $signed({1'b0, add_mult_a_i});
    assign add_pb   = AddBits'($signed(add_data_i[l*Bits +: Bits])) * $signed({1'b0, add_mult_b_i});
    assign add_half = (32'(add_shift_i) >= AddBits - 1) ? '0
                    : (AddBits'(1) << (add_shift_i - 7'd1));
    assign add_sum  = add_pa + add_pb + add_half;
    // (its own signed signal: >>> inside a ?: with an unsigned operand would not sign-fill)
    assign add_sh_raw = add_sum >>> add_shift_i;
    assign add_sh     = (32'(add_shift_i) >= AddBits - 1) ? '0 : add_sh_raw;
    assign add_wide   = RndBits'(add_sh);
    assign add_clamped = (add_wide < lo) ? lo : ((add_wide > hi) ? hi : add_wide);
    assign add_y[l*Bits +: Bits] = add_clamped[Bits-1:0];

    logic unused_add;
    assign unused_add = ^add_clamped[RndBits-1:Bits];
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      y_q     <= '0;
      valid_q <= 1'b0;
      max_q   <= '0;
      add_a_q <= '0;
    end else begin
      valid_q <= rq_valid_i || add_b_valid_i;
      if (rq_valid_i) begin
        y_q <= y_d;
      end else if (add_b_valid_i) begin
        y_q <= add_y;
      end
      if (add_a_valid_i) begin
        add_a_q <= add_data_i;
      end
      if (pool_valid_i) begin
        max_q <= pool_max_o;
      end
    end
  end

  assign rq_valid_o = valid_q;
  assign rq_y_o     = y_q;

endmodule
