// Accumulator buffer: Banks (one per array column) of Depth x AccBits, built on rtl_spad.
// A write request either overwrites (acc = 0) or adds to the stored value (acc = 1): the
// request reads the old value on the bank's read port, and one cycle later the sum is
// written (a two-stage read-modify-write; the controller never issues two requests to one
// address on consecutive cycles, and never reads while an accumulate request is in flight).
// Plain reads have one cycle of latency.
module rtl_acc_buffer #(
  parameter int unsigned Banks    = 2,
  parameter int unsigned AccBits  = 32,
  parameter int unsigned Depth    = 16,
  parameter int unsigned AddrBits = $clog2(Depth)
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,
  input  logic [Banks-1:0]          wr_en_i,
  input  logic                      wr_acc_i,
  input  logic [Banks*AddrBits-1:0] wr_addr_i,
  input  logic [Banks*AccBits-1:0]  wr_data_i,
  input  logic                      rd_en_i,
  input  logic [AddrBits-1:0]       rd_addr_i,
  output logic [Banks*AccBits-1:0]  rd_data_o
);

`ifndef SYNTHESIS
  if (Banks < 1 || Banks > 64) begin : gen_bad_banks
    $error("rtl_acc_buffer: Banks must lie in [1, 64]");
  end
  if (AccBits < 8 || AccBits > 96) begin : gen_bad_acc_bits
    $error("rtl_acc_buffer: AccBits must lie in [8, 96]");
  end
  if (Depth < 2 || Depth > 65536) begin : gen_bad_depth
    $error("rtl_acc_buffer: Depth must lie in [2, 65536]");
  end
`endif

  logic [Banks-1:0]          mem_wr_en;
  logic [Banks*AddrBits-1:0] mem_wr_addr;
  logic [Banks*AccBits-1:0]  mem_wr_data;
  logic [Banks-1:0]          mem_rd_en;
  logic [Banks*AddrBits-1:0] mem_rd_addr;
  logic [Banks*AccBits-1:0]  mem_rd_data;

  // Stage 1 of a request: what to write and whether to add the old value.
  logic [Banks-1:0]          req_en_q;
  logic                      req_acc_q;
  logic [Banks*AddrBits-1:0] req_addr_q;
  logic [Banks*AccBits-1:0]  req_data_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      req_en_q   <= '0;
      req_acc_q  <= 1'b0;
      req_addr_q <= '0;
      req_data_q <= '0;
    end else begin
      req_en_q   <= wr_en_i;
      req_acc_q  <= wr_acc_i;
      req_addr_q <= wr_addr_i;
      req_data_q <= wr_data_i;
    end
  end

  for (genvar i = 0; i < Banks; i++) begin : gen_bank
    logic rmw_rd;
    assign rmw_rd = wr_en_i[i] & wr_acc_i;
    assign mem_rd_en[i] = rmw_rd | rd_en_i;
    assign mem_rd_addr[i*AddrBits +: AddrBits] =
        rmw_rd ? wr_addr_i[i*AddrBits +: AddrBits] : rd_addr_i;
    assign mem_wr_en[i] = req_en_q[i];
    assign mem_wr_addr[i*AddrBits +: AddrBits] = req_addr_q[i*AddrBits +: AddrBits];
    assign mem_wr_data[i*AccBits +: AccBits] = req_acc_q
        ? mem_rd_data[i*AccBits +: AccBits] + req_data_q[i*AccBits +: AccBits]
        : req_data_q[i*AccBits +: AccBits];
  end

  rtl_spad #(
    .Banks   (Banks),
    .Width   (AccBits),
    .Depth   (Depth),
    .AddrBits(AddrBits)
  ) u_mem (
    .clk_i    (clk_i),
    .rst_ni   (rst_ni),
    .wr_en_i  (mem_wr_en),
    .wr_addr_i(mem_wr_addr),
    .wr_data_i(mem_wr_data),
    .rd_en_i  (mem_rd_en),
    .rd_addr_i(mem_rd_addr),
    .rd_data_o(mem_rd_data)
  );

  assign rd_data_o = mem_rd_data;

`ifndef SYNTHESIS
  always_ff @(posedge clk_i) begin
    if (rd_en_i && |(wr_en_i & {Banks{wr_acc_i}})) begin
      $error("rtl_acc_buffer: read issued while an accumulate request uses the read port");
    end
  end
`endif

endmodule
