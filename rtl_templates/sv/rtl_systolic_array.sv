// Rows x Cols systolic array of rtl_mac_pe (DESIGN.md section 5). Ports are flat vectors:
// a_i carries one Bits-wide activation per row (row r at [r*Bits +: Bits]), b_i one weight per
// column, c_o one AccBits-wide result per column from the top row. Partial sums (WS) and the
// drain (OS) flow UP, from the bottom edge (zero) to row 0, so that a tile using only rows
// [0, K_t) (WS) or [0, M_t) (OS) has its results at the top after K_t or M_t steps, whatever
// the array's height (docs/rtl.md, "Partial tiles"). The skew of operands is produced by the
// controller's per-bank scratchpad addresses, not inside the array.
module rtl_systolic_array #(
  parameter int unsigned Rows     = 2,
  parameter int unsigned Cols     = 2,
  parameter int unsigned Bits     = 8,
  parameter int unsigned AccBits  = 32,
  parameter int unsigned Dataflow = 0
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic                    shift_i,
  input  logic                    clear_i,
  input  logic                    en_i,
  input  logic [Rows*Bits-1:0]    a_i,
  input  logic [Cols*Bits-1:0]    b_i,
  output logic [Cols*AccBits-1:0] c_o
);

`ifndef SYNTHESIS
  if (Rows < 1 || Rows > 64) begin : gen_bad_rows
    $error("rtl_systolic_array: Rows must lie in [1, 64]");
  end
  if (Cols < 1 || Cols > 64) begin : gen_bad_cols
    $error("rtl_systolic_array: Cols must lie in [1, 64]");
  end
`endif

  // a_w: activations entering PE(r, c) at index r*(Cols+1)+c; column Cols is the right edge.
  // b_w: weights entering PE(r, c) at index r*Cols+c; row Rows is the bottom edge.
  // c_w: partial sums / accumulators leaving PE(r, c) at r*Cols+c (entering PE(r-1, c));
  //      row Rows is the bottom edge (zero), row 0 the output.
  logic [Rows*(Cols+1)*Bits-1:0]    a_w;
  logic [(Rows+1)*Cols*Bits-1:0]    b_w;
  logic [(Rows+1)*Cols*AccBits-1:0] c_w;

  assign b_w[Cols*Bits-1:0]    = b_i;
  assign c_w[Rows*Cols*AccBits +: Cols*AccBits] = '0;

  for (genvar r = 0; r < Rows; r++) begin : gen_row
    assign a_w[r*(Cols+1)*Bits +: Bits] = a_i[r*Bits +: Bits];
    for (genvar c = 0; c < Cols; c++) begin : gen_col
      rtl_mac_pe #(
        .Bits    (Bits),
        .AccBits (AccBits),
        .Dataflow(Dataflow)
      ) u_pe (
        .clk_i  (clk_i),
        .rst_ni (rst_ni),
        .shift_i(shift_i),
        .clear_i(clear_i),
        .en_i   (en_i),
        .a_i    (a_w[(r*(Cols+1)+c)*Bits +: Bits]),
        .a_o    (a_w[(r*(Cols+1)+c+1)*Bits +: Bits]),
        .b_i    (b_w[(r*Cols+c)*Bits +: Bits]),
        .b_o    (b_w[((r+1)*Cols+c)*Bits +: Bits]),
        .c_i    (c_w[((r+1)*Cols+c)*AccBits +: AccBits]),
        .c_o    (c_w[(r*Cols+c)*AccBits +: AccBits])
      );
    end
  end

  assign c_o = c_w[Cols*AccBits-1:0];

  // Right-edge activations and bottom-edge weights leave the array unused.
  logic unused_edges;
  always_comb begin
    unused_edges = ^b_w[Rows*Cols*Bits +: Cols*Bits];
    for (int r = 0; r < Rows; r++) begin
      unused_edges = unused_edges ^ (^a_w[(r*(Cols+1)+Cols)*Bits +: Bits]);
    end
  end

endmodule
