// Single operators for `tandem calibrate` (docs/calibration.md): the signed multiplier and the
// adder of rtl_mac_pe, synthesized alone so that the PE's combinational area and energy can be
// split into the hw_tech table's mult*/add* entries. Not part of the accelerator.
module calib_mult #(
  parameter int unsigned Bits = 8
) (
  input  logic [Bits-1:0]   a_i,
  input  logic [Bits-1:0]   b_i,
  output logic [2*Bits-1:0] p_o
);
  assign p_o = $signed(a_i) * $signed(b_i);
endmodule

module calib_add #(
  parameter int unsigned Bits = 32
) (
  input  logic [Bits-1:0] a_i,
  input  logic [Bits-1:0] b_i,
  output logic [Bits-1:0] s_o
);
  assign s_o = a_i + b_i;
endmodule
