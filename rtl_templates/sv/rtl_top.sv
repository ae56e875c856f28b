// Accelerator core top (DESIGN.md section 5): controller, banked input and weight
// scratchpads, Rows x Cols systolic array, accumulator buffer, vector unit, per-column
// requantization parameters and an output buffer. The vector unit also adds two lines of the
// weight scratchpad (residual add, ADD_CFG / ADD). Commands arrive on a valid/ready port
// (docs/formats.md, "Tile commands"); data moves through one memory port whose far side is
// a DMA engine outside the core (the core issues requests, one outstanding at a time,
// responses in order). A memory word is MemBits wide; loads use its low bits.
module rtl_top #(
  parameter int unsigned Rows     = 2,
  parameter int unsigned Cols     = 2,
  parameter int unsigned Bits     = 8,
  parameter int unsigned AccBits  = 32,
  parameter int unsigned Dataflow = 0,
  parameter int unsigned XDepth   = 64,
  parameter int unsigned WDepth   = 64,
  parameter int unsigned AccDepth = 64,
  parameter int unsigned OutDepth = 64,
  parameter int unsigned MemBits  = ((Rows > Cols ? Rows : Cols) * Bits > AccBits + 39)
                                    ? (Rows > Cols ? Rows : Cols) * Bits : AccBits + 39
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  input  logic               cmd_valid_i,
  output logic               cmd_ready_o,
  input  logic [127:0]       cmd_i,
  output logic               busy_o,
  output logic               err_o,
  output logic               mem_req_valid_o,
  input  logic               mem_req_ready_i,
  output logic               mem_req_we_o,
  output logic [31:0]        mem_req_addr_o,
  output logic [MemBits-1:0] mem_req_wdata_o,
  input  logic               mem_rsp_valid_i,
  input  logic [MemBits-1:0] mem_rsp_rdata_i
);

  localparam int unsigned XAddrBits   = $clog2(XDepth);
  localparam int unsigned WAddrBits   = $clog2(WDepth);
  localparam int unsigned AccAddrBits = $clog2(AccDepth);
  localparam int unsigned OutAddrBits = $clog2(OutDepth);
  localparam int unsigned ColBits     = (Cols > 1) ? $clog2(Cols) : 1;

`ifndef SYNTHESIS
  if (Rows < 1 || Rows > 64) begin : gen_bad_rows
    $error("rtl_top: Rows must lie in [1, 64]");
  end
  if (Cols < 1 || Cols > 64) begin : gen_bad_cols
    $error("rtl_top: Cols must lie in [1, 64]");
  end
  if (!(Bits == 4 || Bits == 8 || Bits == 16 || Bits == 32)) begin : gen_bad_bits
    $error("rtl_top: Bits must be 4, 8, 16 or 32");
  end
  if (AccBits < 2 * Bits || AccBits > 96) begin : gen_bad_acc_bits
    $error("rtl_top: AccBits must lie in [2*Bits, 96]");
  end
  if (Dataflow > 1) begin : gen_bad_dataflow
    $error("rtl_top: Dataflow must be 0 (WS) or 1 (OS)");
  end
  if (XDepth < 2 || WDepth < 2 || AccDepth < 2 || OutDepth < 2 || XDepth > 65536
      || WDepth > 65536 || AccDepth > 65536 || OutDepth > 65536) begin : gen_bad_depth
    $error("rtl_top: every buffer depth must lie in [2, 65536] lines");
  end
  if (MemBits < Rows * Bits || MemBits < Cols * Bits || MemBits < AccBits + 39)
  begin : gen_bad_mem_bits
    $error("rtl_top: MemBits must hold a scratchpad line and a parameter word");
  end
`endif

  // controller outputs
  logic                        xs_wr_en, ws_wr_en, pr_wr_en;
  logic [XAddrBits-1:0]        xs_wr_addr;
  logic [WAddrBits-1:0]        ws_wr_addr;
  logic [Rows-1:0]             xs_rd_en, x_valid;
  logic [Rows*XAddrBits-1:0]   xs_rd_addr;
  logic [Cols-1:0]             ws_rd_en, w_valid;
  logic [Cols*WAddrBits-1:0]   ws_rd_addr;
  logic [ColBits-1:0]          pr_wr_idx;
  logic                        arr_shift, arr_clear, arr_en;
  logic [Cols-1:0]             acc_wr_en;
  logic                        acc_wr_acc, acc_rd_en;
  logic [Cols*AccAddrBits-1:0] acc_wr_addr;
  logic [AccAddrBits-1:0]      acc_rd_addr;
  logic                        rq_valid, rq_relu, rq_valid_out, pool_valid, pool_first;
  logic [31:0]                 rq_hi;
  logic                        ob_wr_en, ob_wr_sel, ob_rd_en;
  logic                        add_a_valid, add_b_valid;
  logic [31:0]                 add_mult_a, add_mult_b;
  logic [6:0]                  add_shift;
  logic [OutAddrBits-1:0]      ob_wr_addr, ob_rd_addr;

  rtl_controller #(
    .Rows       (Rows),
    .Cols       (Cols),
    .Dataflow   (Dataflow),
    .XAddrBits  (XAddrBits),
    .WAddrBits  (WAddrBits),
    .AccAddrBits(AccAddrBits),
    .OutAddrBits(OutAddrBits),
    .ColBits    (ColBits)
  ) u_ctrl (
    .clk_i          (clk_i),
    .rst_ni         (rst_ni),
    .cmd_valid_i    (cmd_valid_i),
    .cmd_ready_o    (cmd_ready_o),
    .cmd_i          (cmd_i),
    .busy_o         (busy_o),
    .err_o          (err_o),
    .mem_req_valid_o(mem_req_valid_o),
    .mem_req_ready_i(mem_req_ready_i),
    .mem_req_we_o   (mem_req_we_o),
    .mem_req_addr_o (mem_req_addr_o),
    .mem_rsp_valid_i(mem_rsp_valid_i),
    .xs_wr_en_o     (xs_wr_en),
    .xs_wr_addr_o   (xs_wr_addr),
    .xs_rd_en_o     (xs_rd_en),
    .xs_rd_addr_o   (xs_rd_addr),
    .x_valid_o      (x_valid),
    .ws_wr_en_o     (ws_wr_en),
    .ws_wr_addr_o   (ws_wr_addr),
    .ws_rd_en_o     (ws_rd_en),
    .ws_rd_addr_o   (ws_rd_addr),
    .w_valid_o      (w_valid),
    .pr_wr_en_o     (pr_wr_en),
    .pr_wr_idx_o    (pr_wr_idx),
    .arr_shift_o    (arr_shift),
    .arr_clear_o    (arr_clear),
    .arr_en_o       (arr_en),
    .acc_wr_en_o    (acc_wr_en),
    .acc_wr_acc_o   (acc_wr_acc),
    .acc_wr_addr_o  (acc_wr_addr),
    .acc_rd_en_o    (acc_rd_en),
    .acc_rd_addr_o  (acc_rd_addr),
    .rq_valid_o     (rq_valid),
    .rq_relu_o      (rq_relu),
    .rq_hi_o        (rq_hi),
    .rq_valid_i     (rq_valid_out),
    .pool_valid_o   (pool_valid),
    .pool_first_o   (pool_first),
    .add_a_valid_o  (add_a_valid),
    .add_b_valid_o  (add_b_valid),
    .add_mult_a_o   (add_mult_a),
    .add_mult_b_o   (add_mult_b),
    .add_shift_o    (add_shift),
    .ob_wr_en_o     (ob_wr_en),
    .ob_wr_sel_o    (ob_wr_sel),
    .ob_wr_addr_o   (ob_wr_addr),
    .ob_rd_en_o     (ob_rd_en),
    .ob_rd_addr_o   (ob_rd_addr)
  );

  // ---- input scratchpad: Rows banks of Bits ----
  logic [Rows*Bits-1:0] xs_rd_data, arr_a;
  rtl_spad #(
    .Banks(Rows),
    .Width(Bits),
    .Depth(XDepth)
  ) u_xspad (
    .clk_i    (clk_i),
    .rst_ni   (rst_ni),
    .wr_en_i  ({Rows{xs_wr_en}}),
    .wr_addr_i({Rows{xs_wr_addr}}),
    .wr_data_i(mem_rsp_rdata_i[Rows*Bits-1:0]),
    .rd_en_i  (xs_rd_en),
    .rd_addr_i(xs_rd_addr),
    .rd_data_o(xs_rd_data)
  );

  // ---- weight scratchpad: Cols banks of Bits ----
  logic [Cols*Bits-1:0] ws_rd_data, arr_b;
  rtl_spad #(
    .Banks(Cols),
    .Width(Bits),
    .Depth(WDepth)
  ) u_wspad (
    .clk_i    (clk_i),
    .rst_ni   (rst_ni),
    .wr_en_i  ({Cols{ws_wr_en}}),
    .wr_addr_i({Cols{ws_wr_addr}}),
    .wr_data_i(mem_rsp_rdata_i[Cols*Bits-1:0]),
    .rd_en_i  (ws_rd_en),
    .rd_addr_i(ws_rd_addr),
    .rd_data_o(ws_rd_data)
  );

  // Operands outside the tile enter the array as zeros.
  for (genvar r = 0; r < Rows; r++) begin : gen_a
    assign arr_a[r*Bits +: Bits] = x_valid[r] ? xs_rd_data[r*Bits +: Bits] : '0;
  end
  for (genvar c = 0; c < Cols; c++) begin : gen_b
    assign arr_b[c*Bits +: Bits] = w_valid[c] ? ws_rd_data[c*Bits +: Bits] : '0;
  end

  // ---- systolic array ----
  logic [Cols*AccBits-1:0] arr_c;
  rtl_systolic_array #(
    .Rows    (Rows),
    .Cols    (Cols),
    .Bits    (Bits),
    .AccBits (AccBits),
    .Dataflow(Dataflow)
  ) u_array (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .shift_i(arr_shift),
    .clear_i(arr_clear),
    .en_i   (arr_en),
    .a_i    (arr_a),
    .b_i    (arr_b),
    .c_o    (arr_c)
  );

  // ---- accumulator buffer ----
  logic [Cols*AccBits-1:0] acc_rd_data;
  rtl_acc_buffer #(
    .Banks  (Cols),
    .AccBits(AccBits),
    .Depth  (AccDepth)
  ) u_acc (
    .clk_i    (clk_i),
    .rst_ni   (rst_ni),
    .wr_en_i  (acc_wr_en),
    .wr_acc_i (acc_wr_acc),
    .wr_addr_i(acc_wr_addr),
    .wr_data_i(arr_c),
    .rd_en_i  (acc_rd_en),
    .rd_addr_i(acc_rd_addr),
    .rd_data_o(acc_rd_data)
  );

  // ---- per-column parameters: bias (AccBits), multiplier (32), shift (7) ----
  logic [Cols*AccBits-1:0] bias_q;
  logic [Cols*32-1:0]      mult_q;
  logic [Cols*7-1:0]       shift_q;
  for (genvar c = 0; c < Cols; c++) begin : gen_param
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        bias_q[c*AccBits +: AccBits] <= '0;
        mult_q[c*32 +: 32]           <= '0;
        shift_q[c*7 +: 7]            <= 7'd1;
      end else if (pr_wr_en && (32'(pr_wr_idx) == c)) begin
        bias_q[c*AccBits +: AccBits] <= mem_rsp_rdata_i[AccBits-1:0];
        mult_q[c*32 +: 32]           <= mem_rsp_rdata_i[AccBits +: 32];
        shift_q[c*7 +: 7]            <= mem_rsp_rdata_i[AccBits+32 +: 7];
      end
    end
  end

  // ---- vector unit and output buffer ----
  logic [Cols*Bits-1:0] rq_y, pool_max, ob_rd_data;
  rtl_vector_unit #(
    .Lanes  (Cols),
    .Bits   (Bits),
    .AccBits(AccBits)
  ) u_vec (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .rq_valid_i  (rq_valid),
    .rq_acc_i    (acc_rd_data),
    .rq_bias_i   (bias_q),
    .rq_mult_i   (mult_q),
    .rq_shift_i  (shift_q),
    .rq_relu_i   (rq_relu),
    .rq_hi_i     (rq_hi),
    .rq_valid_o  (rq_valid_out),
    .rq_y_o      (rq_y),
    .pool_valid_i(pool_valid),
    .pool_first_i(pool_first),
    .pool_data_i (ob_rd_data),
    .pool_max_o  (pool_max),
    .add_a_valid_i(add_a_valid),
    .add_b_valid_i(add_b_valid),
    .add_data_i   (ws_rd_data),
    .add_mult_a_i (add_mult_a),
    .add_mult_b_i (add_mult_b),
    .add_shift_i  (add_shift)
  );

  rtl_spad #(
    .Banks(Cols),
    .Width(Bits),
    .Depth(OutDepth)
  ) u_obuf (
    .clk_i    (clk_i),
    .rst_ni   (rst_ni),
    .wr_en_i  ({Cols{ob_wr_en}}),
    .wr_addr_i({Cols{ob_wr_addr}}),
    .wr_data_i(ob_wr_sel ? pool_max : rq_y),
    .rd_en_i  ({Cols{ob_rd_en}}),
    .rd_addr_i({Cols{ob_rd_addr}}),
    .rd_data_o(ob_rd_data)
  );

  assign mem_req_wdata_o = MemBits'(ob_rd_data);

  // Response bits above a line or a parameter word are ignored.
  logic unused_rsp;
  assign unused_rsp = ^mem_rsp_rdata_i;

endmodule
