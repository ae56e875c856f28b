// Activity testbench of `tandem calibrate` (docs/calibration.md): drives the synthesized
// gate-level rtl_systolic_array with Tiles random GEMM tiles of K steps each, as the controller
// does (WS: preload Rows weight lines with shift_i, then stream K activation lines; OS: clear,
// K steps of en_i with activation and weight lines, then drain Rows lines with shift_i), and
// dumps every net and cell pin to act.vcd. Operands are uniform random signed Bits-bit values
// from a fixed seed, so a run is reproducible.
`timescale 1ns / 1ps
module calib_tb_array;
  parameter int Rows = 2, Cols = 2, Bits = 8, AccBits = 32, Dataflow = 0;
  parameter int Tiles = 4, K = 32, Seed = 1;
  logic clk_i = 1'b0, rst_ni = 1'b0, shift_i = 1'b0, clear_i = 1'b0, en_i = 1'b0;
  logic [Rows*Bits-1:0] a_i = '0;
  logic [Cols*Bits-1:0] b_i = '0;
  wire [Cols*AccBits-1:0] c_o;
  int unsigned seed_q;

  rtl_systolic_array dut (
    .clk_i, .rst_ni, .shift_i, .clear_i, .en_i, .a_i, .b_i, .c_o
  );

  always #5 clk_i = ~clk_i;

  task automatic rand_a();
    for (int r = 0; r < Rows; r++) a_i[r*Bits +: Bits] = Bits'($urandom);
  endtask
  task automatic rand_b();
    for (int c = 0; c < Cols; c++) b_i[c*Bits +: Bits] = Bits'($urandom);
  endtask

  initial begin
    seed_q = $urandom(Seed);
    repeat (2) @(negedge clk_i);
    rst_ni = 1'b1;
    @(negedge clk_i);
    $dumpfile("act.vcd");
    $dumpvars(0, dut);
    for (int t = 0; t < Tiles; t++) begin
      if (Dataflow == 0) begin
        shift_i = 1'b1;
        for (int r = 0; r < Rows; r++) begin
          rand_b();
          @(negedge clk_i);
        end
        shift_i = 1'b0;
        for (int k = 0; k < K; k++) begin
          rand_a();
          @(negedge clk_i);
        end
      end else begin
        clear_i = 1'b1;
        @(negedge clk_i);
        clear_i = 1'b0;
        en_i = 1'b1;
        for (int k = 0; k < K; k++) begin
          rand_a();
          rand_b();
          @(negedge clk_i);
        end
        en_i = 1'b0;
        shift_i = 1'b1;
        for (int r = 0; r < Rows; r++) @(negedge clk_i);
        shift_i = 1'b0;
      end
    end
    $finish;
  end
endmodule
