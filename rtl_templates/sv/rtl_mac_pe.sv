// MAC processing element of the systolic array (DESIGN.md section 5).
//
// Dataflow = 0 (weight-stationary):
//   shift_i : load the weight register from b_i (weights shift down a column during preload)
//   every cycle: c_o <= c_i + a_i * w (partial sums flow up: c_i comes from the PE below),
//   a_o <= a_i (activations flow right); b_o is the stored weight (feeds the PE below during
//   preload: weights shift down).
// Dataflow = 1 (output-stationary):
//   clear_i : zero the accumulator (has priority)
//   en_i    : acc <= acc + a_i * b_i
//   shift_i : drain, acc <= c_i (the accumulator of the PE below); c_o is the accumulator
//   a_o <= a_i, b_o <= b_i every cycle (inputs flow right, weights flow down).
// Products are exact (2*Bits signed) and sign-extended to AccBits; sums wrap in AccBits
// two's complement, which docs/arithmetic.md section 2 makes unreachable for legal configs.
module rtl_mac_pe #(
  parameter int unsigned Bits     = 8,
  parameter int unsigned AccBits  = 32,
  parameter int unsigned Dataflow = 0
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  input  logic               shift_i,
  input  logic               clear_i,
  input  logic               en_i,
  input  logic [Bits-1:0]    a_i,
  output logic [Bits-1:0]    a_o,
  input  logic [Bits-1:0]    b_i,
  output logic [Bits-1:0]    b_o,
  input  logic [AccBits-1:0] c_i,
  output logic [AccBits-1:0] c_o
);

`ifndef SYNTHESIS
  if (!(Bits == 4 || Bits == 8 || Bits == 16 || Bits == 32)) begin : gen_bad_bits
    $error("rtl_mac_pe: Bits must be 4, 8, 16 or 32");
  end
  if (AccBits < 2 * Bits || AccBits > 96) begin : gen_bad_acc_bits
    $error("rtl_mac_pe: AccBits must lie in [2*Bits, 96]");
  end
  if (Dataflow > 1) begin : gen_bad_dataflow
    $error("rtl_mac_pe: Dataflow must be 0 (WS) or 1 (OS)");
  end
`endif

  logic [Bits-1:0]        a_q;
  logic [Bits-1:0]        b_d, b_q;
  logic [AccBits-1:0]     c_d, c_q;
  logic signed [2*Bits-1:0] prod;
  logic [AccBits-1:0]     prod_ext;

  assign prod     = $signed(a_i) * $signed(Dataflow == 0 ? b_q : b_i);
  assign prod_ext = AccBits'(prod);

  if (Dataflow == 0) begin : gen_ws
    logic unused_ctrl;
    assign unused_ctrl = clear_i ^ en_i;
    assign b_d = shift_i ? b_i : b_q;
    assign c_d = c_i + prod_ext;
  end else begin : gen_os
    assign b_d = b_i;
    always_comb begin
      c_d = c_q;
      if (clear_i) begin
        c_d = '0;
      end else if (shift_i) begin
        c_d = c_i;
      end else if (en_i) begin
        c_d = c_q + prod_ext;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      a_q <= '0;
      b_q <= '0;
      c_q <= '0;
    end else begin
      a_q <= a_i;
      b_q <= b_d;
      c_q <= c_d;
    end
  end

  assign a_o = a_q;
  assign b_o = b_q;
  assign c_o = c_q;

endmodule
